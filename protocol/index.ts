export * from './constants.js';
export * from './process-spec.js';
export * from './messages.js';
export * from './codec.js';
export * from './validation.js';
export * from './json-depth.js';
export * from './presence.js';
export * from './linear-regexp.js';
