// The rule for worker names, shared by the config (VIGIL_WORKER_NAME) and worker registration: host-name-like, 1-63 characters.
export const WORKER_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$/;
export const WORKER_NAME_RULE = "use 1-63 letters, digits, '.', '_' or '-', starting with a letter or digit";
