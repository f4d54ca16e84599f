import { describe, expect, it } from 'vitest';
import { agentSupport, oldestSupportedAgentVersion } from '../../src/domain/agent-version.js';

describe('agent compatibility window', () => {
  it('spans the coordinator major version and two minor versions back', () => {
    expect(oldestSupportedAgentVersion('1.5.3')).toBe('1.3.0');
    expect(oldestSupportedAgentVersion('1.1.0')).toBe('1.0.0');
    expect(agentSupport('1.3.0', '1.5.3')).toBe('supported');
    expect(agentSupport('1.5.3', '1.5.3')).toBe('supported');
    expect(agentSupport('1.9.0', '1.5.3')).toBe('supported');
    expect(agentSupport('2.0.0', '1.5.3')).toBe('supported');
    expect(agentSupport('1.2.9', '1.5.3')).toBe('outdated');
    expect(agentSupport('0.9.0', '1.5.3')).toBe('outdated');
    expect(agentSupport('1.3.0-rc.1', '1.5.3')).toBe('supported');
  });

  it('before 1.0, is the coordinator minor version (each may break)', () => {
    expect(oldestSupportedAgentVersion('0.4.2')).toBe('0.4.0');
    expect(agentSupport('0.4.0', '0.4.2')).toBe('supported');
    expect(agentSupport('0.3.9', '0.4.2')).toBe('outdated');
  });

  it('cannot judge a version that is not MAJOR.MINOR.PATCH', () => {
    expect(agentSupport('', '1.5.3')).toBe('unknown');
    expect(agentSupport('dev', '1.5.3')).toBe('unknown');
    expect(agentSupport('1.5', '1.5.3')).toBe('unknown');
    expect(() => oldestSupportedAgentVersion('next')).toThrow('not MAJOR.MINOR.PATCH');
  });
});
