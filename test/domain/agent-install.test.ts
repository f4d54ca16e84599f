import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { agentInstallLines } from '../../src/domain/agent-install.js';

describe('agent install lines', () => {
  it('install the package and the service, enrolled, on each platform', () => {
    const lines = agentInstallLines({ coordinator: 'coord.example:7070', enrollToken: 'gfe_abc', factoryId: 'mac-mini-3', packageSource: 'https://artifacts.example/gigafactory-agent-0.1.0.tgz' });
    expect(lines.map((l) => [l.platform, l.line])).toEqual([
      ['linux', 'sudo npm install -g https://artifacts.example/gigafactory-agent-0.1.0.tgz && sudo gigafactory-agent --coordinator coord.example:7070 install-service --id mac-mini-3 --enroll-token gfe_abc'],
      ['macos', 'sudo npm install -g https://artifacts.example/gigafactory-agent-0.1.0.tgz && sudo gigafactory-agent --coordinator coord.example:7070 install-service --id mac-mini-3 --enroll-token gfe_abc'],
      ['windows', 'npm install -g https://artifacts.example/gigafactory-agent-0.1.0.tgz && gigafactory-agent --coordinator coord.example:7070 install-service --id mac-mini-3 --enroll-token gfe_abc'],
    ]);
  });

  it('quote what a shell would split or expand, and leave out --id when none is given', () => {
    const [linux, , windows] = agentInstallLines({ coordinator: 'c:7070', enrollToken: 't', packageSource: "https://x.example/a.tgz?sig=1&exp=2 it's" });
    // sh -c parses the line back into the very words: echo them instead of running npm.
    const words = execFileSync('sh', ['-c', `set -- ${linux!.line.replace(' && ', ' AND ')}; printf '%s\\n' "$@"`], { encoding: 'utf8' }).trim().split('\n');
    expect(words).toEqual(['sudo', 'npm', 'install', '-g', "https://x.example/a.tgz?sig=1&exp=2 it's", 'AND', 'sudo', 'gigafactory-agent', '--coordinator', 'c:7070', 'install-service', '--enroll-token', 't']);
    expect(windows!.line).toContain(`npm install -g "https://x.example/a.tgz?sig=1&exp=2 it's" && `);
  });
});
