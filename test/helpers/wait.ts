export { waitFor } from '../../src/util/wait.js';
