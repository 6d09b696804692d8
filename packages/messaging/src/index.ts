export * from './channels';
export * from './envelope';
export * from './message-coordinator';
export * from './service-call-error';
export * from './service-responder';
