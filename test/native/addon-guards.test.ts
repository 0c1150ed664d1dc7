/**
 * The addon's own guards on a native config: a config that the loader did not make (or that exceeds
 * what the stack holds) is refused with a RangeError naming the limit, never cut short in silence.
 */
import { describe, expect, it } from 'vitest';
import { describeApp, runApp } from '../stack/node-app.js';

/** Starts the stack from FFNET_CONFIG's native form after `edit` changed it; reports how the start ended. */
const startEdited = (edit: string): string => `
const { loadAddon } = await import(new URL('./native/index.js', '@FFNET@').href);
const { loadConfigFile, toNativeConfig } = await import(new URL('./config/index.js', '@FFNET@').href);
const cfg = toNativeConfig(loadConfigFile(process.env.FFNET_CONFIG), { processName: 'ffnet' });
${edit}
try {
  loadAddon().startStack(cfg, () => {}).close();
  report({ started: true });
} catch (err) {
  report({ name: err.name, message: err.message });
}
loadAddon().ealCleanup();
`;

describe('native config guards', () => {
  it('refuses more data-path lcores than the stack holds instead of dropping the rest', async () => {
    const r = await runApp('guard-lcores', startEdited('cfg.dataLcores = Array.from({ length: 33 }, (_, i) => i + 1);'));
    expect(r.code, describeApp(r)).toBe(0);
    expect(r.reports, describeApp(r)).toEqual([{ name: 'RangeError', message: 'at most 32 data-path lcores' }]);
  });

  it('refuses more static neighbours than a port holds instead of dropping the rest', async () => {
    const edit = `cfg.ports = [{ portId: 0, addr: '10.0.0.2', netmask: '255.255.255.0', broadcast: '10.0.0.255', gateway: '', mtu: 1500,
      staticArp: Array.from({ length: 65 }, (_, i) => ({ addr: '10.0.0.' + (i + 10), mac: '02:00:00:00:00:01' })) }];`;
    const r = await runApp('guard-arp', startEdited(edit));
    expect(r.code, describeApp(r)).toBe(0);
    expect(r.reports, describeApp(r)).toEqual([{ name: 'RangeError', message: 'at most 64 static neighbours per port' }]);
  });
});
