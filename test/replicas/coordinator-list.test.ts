/** The agent's --coordinator list: several replicas, tried in turn on every reconnect. */
import { expect, it } from 'vitest';
import { FactoryAgent, parseCoordinators } from '../../agent/agent.js';
import { createLogger } from '../../src/logging.js';

it('splits a comma-separated list of replicas, ignoring blanks, and needs at least one', () => {
  expect(parseCoordinators('a:7070')).toEqual(['a:7070']);
  expect(parseCoordinators(' a:7070, b:7070 ,,c:7070 ')).toEqual(['a:7070', 'b:7070', 'c:7070']);
  expect(() => parseCoordinators(' , ')).toThrow('no coordinator address');
});

it('keeps the list on the agent, first address first', () => {
  const agent = new FactoryAgent({ coordinator: 'x:1,y:2', labels: {}, slots: 1, workDir: '/tmp/unused', log: createLogger({ level: 'silent' }) });
  expect(agent.coordinators).toEqual(['x:1', 'y:2']);
});
