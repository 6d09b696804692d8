/** The service as a library, for other packages' tests that run it in process. */
export * from './ai-abstractor';
