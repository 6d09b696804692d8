export * from './channels';
export * from './envelope';
export * from './message-coordinator';
export * from './message-signer';
export * from './service-call-error';
export * from './service-responder';
