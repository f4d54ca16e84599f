/** Where, in its work dir, the agent keeps its tokens (a module of its own so `install-service` can name them without loading gRPC). */
export const FACTORY_TOKEN_FILE = 'factory-token';
export const ENROLL_TOKEN_FILE = 'enroll-token';
