export { parseInput } from '../core/input.js';
