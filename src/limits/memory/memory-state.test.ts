import { runLimitsStateSuite } from '../state.case.js';
import { MemoryLimitsState } from './memory-state.js';

runLimitsStateSuite('memory', { make: async () => new MemoryLimitsState() });
