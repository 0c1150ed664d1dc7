/**
 * Every kind of bad configuration is refused with an FfnetConfigError whose message names the
 * file, section and key, exactly as documented.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { FfnetConfigError, loadConfigFile, parseConfigText, validateConfig } from '../../config/index.js';

const dir = mkdtempSync(join(tmpdir(), 'ffnet-config-err-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const PORT = '[port0]\naddr = 10.77.0.2\nnetmask = 255.255.255.0\n';

function errorOf(fn: () => unknown): FfnetConfigError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(FfnetConfigError);
    expect((err as FfnetConfigError).code).toBe('ERR_FFNET_CONFIG');
    return err as FfnetConfigError;
  }
  throw new Error('expected an FfnetConfigError, got none');
}

/** Parses `text` as ffnet.ini and returns the error's message, section and key. */
function iniError(text: string) {
  const e = errorOf(() => parseConfigText(text, 'ffnet.ini'));
  expect(e.file).toBe('ffnet.ini');
  return { message: e.message, section: e.section, key: e.key };
}

describe('reading the file', () => {
  it('names a missing file in full, with the errno', () => {
    const path = join(dir, 'absent', 'ffnet.ini');
    const e = errorOf(() => loadConfigFile(path));
    expect(e.message).toBe(`cannot read config file ${path}: ENOENT (no such file)`);
    expect(e.file).toBe(path);
    expect(e.section).toBeUndefined();
    expect(e.key).toBeUndefined();
  });

  it('names a directory given as the file', () => {
    expect(errorOf(() => loadConfigFile(dir)).message).toBe(`cannot read config file ${dir}: EISDIR (is a directory)`);
  });

  it('names the path as given in errors about its content', () => {
    const path = join(dir, 'bad.ini');
    writeFileSync(path, '[port0]\naddr = 10.77.0.300\nnetmask = 255.255.255.0\n');
    const e = errorOf(() => loadConfigFile(path));
    expect(e.message).toBe(`${path}: [port0] addr: "10.77.0.300" is not an IPv4 address`);
    expect(e.file).toBe(path);
  });
});

describe('structure', () => {
  it('unknown section, listing the known ones', () => {
    expect(iniError('[pcapx]\nfile = x\n')).toEqual({
      message: 'ffnet.ini: unknown section [pcapx] (known sections: [dpdk], [port0]..[port31], [sysctl])',
      section: 'pcapx', key: undefined,
    });
    expect(iniError('[port0.x]\na = 1\n').message)
      .toBe('ffnet.ini: unknown section [port0.x] (known sections: [dpdk], [port0]..[port31], [sysctl])');
  });

  it('port section outside the DPDK port id range', () => {
    expect(iniError('[port32]\naddr = 10.0.0.1\nnetmask = 255.0.0.0\n').message)
      .toBe('ffnet.ini: unknown section [port32]: 32 is not a DPDK port id (expected [port0]..[port31], without leading zeros)');
    expect(iniError('[port01]\n').message)
      .toBe('ffnet.ini: unknown section [port01]: 01 is not a DPDK port id (expected [port0]..[port31], without leading zeros)');
  });

  it('unknown key, listing the known keys of its section', () => {
    expect(iniError('[dpdk]\nfoo = 1\n')).toEqual({
      message: 'ffnet.ini: unknown key "foo" in [dpdk] (known keys: lcore_mask, lcores, loop, localhost, memory, no_huge, huge_dir, '
        + 'proc_type, nb_procs, proc_id, file_prefix, vdev, allow, idle_sleep, pkt_tx_delay, log_level, log, nb_mbuf, '
        + 'extra_args)',
      section: 'dpdk', key: 'foo',
    });
    expect(iniError(`${PORT}prefix = 24\n`).message)
      .toBe('ffnet.ini: unknown key "prefix" in [port0] (known keys: addr, netmask, broadcast, gateway, route, vip_addr, mtu, vlan_id, arp, addr6, gateway6, ipv6, ndp, '
        + 'exception, exception_iface, exception_tcp_port, exception_udp_port, exception_udp_unbound, exception_queue)');
  });

  it('key outside any section', () => {
    expect(iniError('memory = 256\n[dpdk]\n')).toEqual({
      message: 'ffnet.ini: key "memory" is outside any section (put it under [dpdk], [portN] or [sysctl])',
      section: undefined, key: 'memory',
    });
  });

  it('a single-valued key set twice', () => {
    expect(iniError(`${PORT}addr = 10.77.0.3\n`)).toEqual({
      message: 'ffnet.ini: [port0] addr: set more than once (a key may be given once)', section: 'port0', key: 'addr',
    });
    expect(iniError('[dpdk]\nvdev = net_tap0\nvdev = net_tap1\n').message)
      .toBe('ffnet.ini: [dpdk] vdev: set more than once (write "vdev[] = ..." once per value)');
  });

  it('a list given for a single-valued key', () => {
    expect(iniError('[dpdk]\nmemory[] = 512\n').message)
      .toBe('ffnet.ini: [dpdk] memory: takes one value, got a list of 1 (write "memory = ...", not "memory[] = ...")');
  });

  it('an empty value', () => {
    expect(iniError(`${PORT}gateway =\n`).message).toBe('ffnet.ini: [port0] gateway: empty value (remove the line to use the default)');
  });

  it('config objects that are not sections of keys', () => {
    expect(errorOf(() => validateConfig(null as never, '<config object>')).message)
      .toBe('<config object>: expected an object of sections ({ dpdk: {...}, port0: {...} }), got null');
    expect(errorOf(() => validateConfig({ dpdk: 'x' } as never, '<config object>')).message)
      .toBe('<config object>: [dpdk]: expected a section (an object of keys), got "x"');
    expect(errorOf(() => validateConfig({ dpdk: { vdev: [1] } }, '<config object>')).message)
      .toBe('<config object>: [dpdk] vdev: expected a string for each entry, got 1');
  });
});

describe('ports', () => {
  it('bad address', () => {
    expect(iniError('[port0]\naddr = 10.77.0.300\nnetmask = 255.255.255.0\n')).toEqual({
      message: 'ffnet.ini: [port0] addr: "10.77.0.300" is not an IPv4 address', section: 'port0', key: 'addr',
    });
    expect(iniError('[port0]\naddr = 10.77.0.02\nnetmask = 255.255.255.0\n').message)
      .toBe('ffnet.ini: [port0] addr: "10.77.0.02" is not an IPv4 address');
    expect(iniError('[port0]\naddr = 127.0.0.2\nnetmask = 255.0.0.0\n').message)
      .toBe('ffnet.ini: [port0] addr: 127.0.0.2 is not usable as a port address (loopback)');
    expect(iniError('[port0]\naddr = 224.0.0.5\nnetmask = 255.0.0.0\n').message)
      .toBe('ffnet.ini: [port0] addr: 224.0.0.5 is not usable as a port address (multicast)');
    expect(iniError('[port0]\naddr = 10.77.0.0\nnetmask = 255.255.255.0\n').message)
      .toBe('ffnet.ini: [port0] addr: 10.77.0.0 is the network address of 10.77.0.0/24, not a host address');
    expect(iniError('[port0]\naddr = 10.77.0.255\nnetmask = 255.255.255.0\n').message)
      .toBe('ffnet.ini: [port0] addr: 10.77.0.255 is the broadcast address of 10.77.0.0/24, not a host address');
  });

  it('missing required key', () => {
    expect(iniError('[port0]\naddr = 10.77.0.2\n')).toEqual({
      message: 'ffnet.ini: [port0] netmask: missing (every [portN] section needs addr and netmask)', section: 'port0', key: 'netmask',
    });
  });

  it('bad netmask', () => {
    expect(iniError('[port0]\naddr = 10.77.0.2\nnetmask = 255.0.255.0\n')).toEqual({
      message: 'ffnet.ini: [port0] netmask: 255.0.255.0 is not a contiguous netmask', section: 'port0', key: 'netmask',
    });
    expect(iniError('[port0]\naddr = 10.77.0.2\nnetmask = 24\n').message)
      .toBe('ffnet.ini: [port0] netmask: "24" is not a netmask (expected a dotted mask such as 255.255.255.0)');
    expect(iniError('[port0]\naddr = 10.77.0.2\nnetmask = 0.0.0.0\n').message)
      .toBe('ffnet.ini: [port0] netmask: 0.0.0.0 leaves no network part (prefix length 0)');
  });

  it('broadcast outside the subnet', () => {
    expect(iniError(`${PORT}broadcast = 10.78.0.255\n`).message)
      .toBe("ffnet.ini: [port0] broadcast: 10.78.0.255 is not in the port's subnet 10.77.0.0/24");
  });

  it('gateway outside the subnet, or not a host of it', () => {
    expect(iniError(`${PORT}gateway = 10.78.0.1\n`)).toEqual({
      message: "ffnet.ini: [port0] gateway: 10.78.0.1 is not in the port's subnet 10.77.0.0/24", section: 'port0', key: 'gateway',
    });
    expect(iniError(`${PORT}gateway = 10.77.0.2\n`).message).toBe("ffnet.ini: [port0] gateway: 10.77.0.2 is the port's own address");
    expect(iniError(`${PORT}gateway = 10.77.0.255\n`).message)
      .toBe('ffnet.ini: [port0] gateway: 10.77.0.255 is the broadcast address of 10.77.0.0/24');
  });

  it('mtu out of range', () => {
    expect(iniError(`${PORT}mtu = 9001\n`)).toEqual({
      message: 'ffnet.ini: [port0] mtu: 9001 is out of range (68..9000 bytes)', section: 'port0', key: 'mtu',
    });
    expect(iniError(`${PORT}mtu = 67\n`).message).toBe('ffnet.ini: [port0] mtu: 67 is out of range (68..9000 bytes)');
  });

  it('vlan_id out of range: 0 (a priority tag) and 4095 (reserved) are not VLANs', () => {
    expect(iniError(`${PORT}vlan_id = 4095\n`)).toEqual({
      message: 'ffnet.ini: [port0] vlan_id: 4095 is out of range (1..4094)', section: 'port0', key: 'vlan_id',
    });
    expect(iniError(`${PORT}vlan_id = 0\n`).message).toBe('ffnet.ini: [port0] vlan_id: 0 is out of range (1..4094)');
    expect(iniError(`${PORT}vlan_id = 1.5\n`).message).toBe('ffnet.ini: [port0] vlan_id: "1.5" is not a decimal integer');
  });

  it('more ports than a stack serves', () => {
    const nine = Array.from({ length: 9 }, (_, i) => `[port${i}]\naddr = 10.77.${i}.2\nnetmask = 255.255.255.0\n`).join('');
    expect(iniError(nine)).toEqual({
      message: 'ffnet.ini: [port8]: 9 ports are configured ([port0], [port1], [port2], [port3], [port4], [port5], [port6], [port7], [port8]); '
        + 'a stack serves at most 8',
      section: 'port8', key: undefined,
    });
    expect(() => parseConfigText(nine.split('[port8]')[0]!, 'ffnet.ini')).not.toThrow();
  });

  it('duplicate address across ports', () => {
    expect(iniError(`${PORT}[port1]\naddr = 10.77.0.2\nnetmask = 255.255.0.0\n`)).toEqual({
      message: 'ffnet.ini: [port1] addr: 10.77.0.2 is already the address of [port0]', section: 'port1', key: 'addr',
    });
  });

  it('bad static arp entries', () => {
    const arp = (entry: string) => iniError(`${PORT}arp[] = ${entry}\n`).message;
    expect(iniError(`${PORT}arp[] = 10.77.0.9\n`)).toEqual({
      message: 'ffnet.ini: [port0] arp: entry "10.77.0.9": expected "IP MAC", e.g. "10.77.0.9 02:00:00:00:00:09"',
      section: 'port0', key: 'arp',
    });
    expect(arp('10.77.0.999 02:00:00:00:00:09'))
      .toBe('ffnet.ini: [port0] arp: entry "10.77.0.999 02:00:00:00:00:09": "10.77.0.999" is not an IPv4 address');
    expect(arp('10.77.0.9 02:00:00:00:00'))
      .toBe('ffnet.ini: [port0] arp: entry "10.77.0.9 02:00:00:00:00": "02:00:00:00:00" is not a MAC address (aa:bb:cc:dd:ee:ff)');
    expect(arp('10.77.0.9 01:00:5e:00:00:01'))
      .toBe('ffnet.ini: [port0] arp: entry "10.77.0.9 01:00:5e:00:00:01": 01:00:5e:00:00:01 is not a unicast MAC address');
    expect(arp('10.77.0.9 00:00:00:00:00:00'))
      .toBe('ffnet.ini: [port0] arp: entry "10.77.0.9 00:00:00:00:00:00": 00:00:00:00:00:00 is not a usable MAC address');
    expect(arp('10.78.0.9 02:00:00:00:00:09'))
      .toBe("ffnet.ini: [port0] arp: entry \"10.78.0.9 02:00:00:00:00:09\": 10.78.0.9 is not in the port's subnet 10.77.0.0/24");
    expect(arp('10.77.0.2 02:00:00:00:00:09'))
      .toBe("ffnet.ini: [port0] arp: entry \"10.77.0.2 02:00:00:00:00:09\": 10.77.0.2 is the port's own address");
    expect(iniError(`${PORT}arp[] = 10.77.0.9 02:00:00:00:00:09\narp[] = 10.77.0.9 02:00:00:00:00:08\n`).message)
      .toBe('ffnet.ini: [port0] arp: entry "10.77.0.9 02:00:00:00:00:08": 10.77.0.9 already has an entry');
    expect(errorOf(() => validateConfig({
      port0: { addr: '10.77.0.2', netmask: '255.255.255.0', arp: [{ addr: '10.77.0.9', mac: '02:00:00:00:00:09', ttl: 1 }] },
    }, '<config object>')).message)
      .toBe('<config object>: [port0] arp: entry "10.77.0.9 02:00:00:00:00:09": unknown field "ttl" (expected { addr, mac })');
  });
});

describe('[dpdk] values', () => {
  it('bad boolean', () => {
    expect(iniError('[dpdk]\nno_huge = maybe\n')).toEqual({
      message: 'ffnet.ini: [dpdk] no_huge: "maybe" is not a boolean (true/false, yes/no, on/off, 1/0)', section: 'dpdk', key: 'no_huge',
    });
  });

  it('bad numbers: not decimal, not an integer, out of range', () => {
    expect(iniError('[dpdk]\nmemory = 12abc\n')).toEqual({
      message: 'ffnet.ini: [dpdk] memory: "12abc" is not a decimal integer', section: 'dpdk', key: 'memory',
    });
    expect(iniError('[dpdk]\nmemory = 0x100\n').message).toBe('ffnet.ini: [dpdk] memory: "0x100" is not a decimal integer');
    expect(iniError('[dpdk]\nidle_sleep = 1e3\n').message).toBe('ffnet.ini: [dpdk] idle_sleep: "1e3" is not a decimal integer');
    expect(iniError('[dpdk]\nmemory = 32\n').message).toBe('ffnet.ini: [dpdk] memory: 32 is out of range (64..1048576 MB)');
    expect(iniError('[dpdk]\nidle_sleep = -1\n').message).toBe('ffnet.ini: [dpdk] idle_sleep: -1 is out of range (0..100000 µs)');
    expect(iniError('[dpdk]\npkt_tx_delay = 10001\n').message).toBe('ffnet.ini: [dpdk] pkt_tx_delay: 10001 is out of range (0..10000 µs)');
    expect(iniError('[dpdk]\nnb_mbuf = 1000\n').message).toBe('ffnet.ini: [dpdk] nb_mbuf: 1000 is out of range (1023..16777215 mbufs)');
    expect(errorOf(() => validateConfig({ dpdk: { memory: 256.5 } }, '<config object>')).message)
      .toBe('<config object>: [dpdk] memory: 256.5 is not an integer');
    expect(errorOf(() => validateConfig({ dpdk: { memory: true } }, '<config object>')).message)
      .toBe('<config object>: [dpdk] memory: expected an integer, got true');
  });

  it('a packet pool that does not fit in memory', () => {
    expect(iniError('[dpdk]\nmemory = 64\nnb_mbuf = 65535\n').message)
      .toBe('ffnet.ini: [dpdk] nb_mbuf: 65535 mbufs need about 148 MB, which does not fit in memory = 64 MB (raise memory or lower nb_mbuf)');
  });

  it('lcore_mask without lcore 0, empty, malformed or too wide', () => {
    expect(iniError('[dpdk]\nlcore_mask = 0x6\n')).toEqual({
      message: 'ffnet.ini: [dpdk] lcore_mask: 0x6 does not include lcore 0 (lcore 0 is the JS thread that initialises the EAL; use 0x7)',
      section: 'dpdk', key: 'lcore_mask',
    });
    expect(iniError('[dpdk]\nlcore_mask = 2\n').message)
      .toBe('ffnet.ini: [dpdk] lcore_mask: 0x2 does not include lcore 0 (lcore 0 is the JS thread that initialises the EAL; use 0x3)');
    expect(iniError('[dpdk]\nlcore_mask = 0\n').message).toBe('ffnet.ini: [dpdk] lcore_mask: 0x0 names no lcore (lcore 0 is required)');
    expect(iniError('[dpdk]\nlcore_mask = 0xg\n').message)
      .toBe('ffnet.ini: [dpdk] lcore_mask: "0xg" is not an lcore mask (hex with 0x, e.g. 0x3, or a decimal integer)');
    expect(iniError('[dpdk]\nlcore_mask = 0x100000000000000000000000000000001\n').message)
      .toBe('ffnet.ini: [dpdk] lcore_mask: 0x100000000000000000000000000000001 names lcore 128; lcore ids go up to 127');
  });

  it('lcores mapping that is malformed or disagrees with lcore_mask', () => {
    expect(iniError('[dpdk]\nlcore_mask = 0x3\nlcores = 0@(0-1)\n')).toEqual({
      message: 'ffnet.ini: [dpdk] lcores: "0@(0-1)" does not map lcore 1 of lcore_mask 0x3', section: 'dpdk', key: 'lcores',
    });
    expect(iniError('[dpdk]\nlcores = 0@(0-1),1@1\n').message)
      .toBe('ffnet.ini: [dpdk] lcores: "0@(0-1),1@1" maps lcore 1, which lcore_mask 0x1 does not include');
    expect(iniError('[dpdk]\nlcores = 0@(0-1\n').message)
      .toBe('ffnet.ini: [dpdk] lcores: "0@(0-1" is not an EAL lcore mapping (expected ")" at position 7; e.g. 0@(0-1),1@(0-1))');
    expect(iniError('[dpdk]\nlcores = 0,0@1\n').message)
      .toBe('ffnet.ini: [dpdk] lcores: "0,0@1" is not an EAL lcore mapping (lcore 0 is mapped twice; e.g. 0@(0-1),1@(0-1))');
    expect(iniError('[dpdk]\nlcore_mask = 0x3\nlcores = (0-1)@(3-2)\n').message)
      .toBe('ffnet.ini: [dpdk] lcores: "(0-1)@(3-2)" is not an EAL lcore mapping (range 3-2 runs backwards; e.g. 0@(0-1),1@(0-1))');
  });

  it('loop that is neither dedicated nor inline, or inline over more lcores than a stack has state for', () => {
    expect(iniError('[dpdk]\nlcore_mask = 0x3\nloop = shared\n')).toEqual({
      message: 'ffnet.ini: [dpdk] loop: "shared" is not a loop mode (dedicated or inline)', section: 'dpdk', key: 'loop',
    });
    expect(iniError('[dpdk]\nloop = INLINE\n').message).toBe('ffnet.ini: [dpdk] loop: "INLINE" is not a loop mode (dedicated or inline)');
    expect(iniError('[dpdk]\nloop =\n').message).toBe('ffnet.ini: [dpdk] loop: empty value (remove the line to use the default)');
    expect(iniError('[dpdk]\nloop[] = inline\n').message)
      .toBe('ffnet.ini: [dpdk] loop: takes one value, got a list of 1 (write "loop = ...", not "loop[] = ...")');
    expect(iniError('[dpdk]\nlcore_mask = 0x1ffffffff\nloop = inline\n').message)
      .toBe('ffnet.ini: [dpdk] loop: inline turns every lcore of lcore_mask 0x1ffffffff on an application thread, 33 of them; '
        + 'a stack runs at most 32 lcores');
    expect(errorOf(() => validateConfig({ dpdk: { loop: true } }, '<config object>')).message)
      .toBe('<config object>: [dpdk] loop: "true" is not a loop mode (dedicated or inline)');
    expect(errorOf(() => validateConfig({ dpdk: { loop: ['inline'] } }, '<config object>')).message)
      .toBe('<config object>: [dpdk] loop: takes one value, got a list of 1');
  });

  it('bad file_prefix', () => {
    expect(iniError('[dpdk]\nfile_prefix = my/prefix\n')).toEqual({
      message: 'ffnet.ini: [dpdk] file_prefix: "my/prefix" is not a valid file prefix (1..64 characters from A-Z a-z 0-9 _ -)',
      section: 'dpdk', key: 'file_prefix',
    });
    expect(iniError(`[dpdk]\nfile_prefix = ${'a'.repeat(65)}\n`).key).toBe('file_prefix');
  });

  it('bad or repeated devices', () => {
    expect(iniError('[dpdk]\nvdev[] = net tap0\n').message)
      .toBe('ffnet.ini: [dpdk] vdev: "net tap0" is not a device specification (expected <driver><id>[,key=value...], e.g. net_tap0,iface=ff0)');
    expect(iniError('[dpdk]\nvdev[] = net_tap0\nvdev[] = net_tap0,iface=x\n').message)
      .toBe('ffnet.ini: [dpdk] vdev: device net_tap0 is listed twice');
    expect(iniError('[dpdk]\nallow[] = eth0\n').message)
      .toBe('ffnet.ini: [dpdk] allow: "eth0" is not a PCI address ([domain:]bus:devid.func[,args], e.g. 0000:01:00.0)');
  });

  it('bad log level', () => {
    expect(iniError('[dpdk]\nlog_level = loud\n').message)
      .toBe('ffnet.ini: [dpdk] log_level: "loud" is not a log level (emerg, alert, crit, err, warning, notice, info, debug, or 1..8)');
    expect(iniError('[dpdk]\nlog_level = 9\n').key).toBe('log_level');
  });

  it('bad log sink', () => {
    expect(iniError('[dpdk]\nlog = stdout\n')).toEqual({
      message: 'ffnet.ini: [dpdk] log: "stdout" is not a log sink (none, stderr, syslog or file:PATH)', section: 'dpdk', key: 'log',
    });
    expect(iniError('[dpdk]\nlog = file:\n').key).toBe('log');
  });

  it('extra_args that would contradict a key', () => {
    expect(iniError('[dpdk]\nextra_args = --in-memory --lcores=0\n').message)
      .toBe('ffnet.ini: [dpdk] extra_args: "--lcores=0" is set from the lcores key; set it there instead');
    expect(iniError('[dpdk]\nextra_args = -m 512\n').message)
      .toBe('ffnet.ini: [dpdk] extra_args: "-m" is set from the memory key; set it there instead');
    expect(iniError('[dpdk]\nextra_args = --vdev=net_null0\n').message)
      .toBe('ffnet.ini: [dpdk] extra_args: "--vdev=net_null0" is set from the vdev key; set it there instead');
  });

  it('extra_args that would make the EAL print and end the process, or set the process type or hugepage mount', () => {
    for (const a of ['--help', '-h', '-v', '--version']) {
      expect(iniError(`[dpdk]\nextra_args = --in-memory ${a}\n`)).toEqual({
        message: `ffnet.ini: [dpdk] extra_args: "${a}" makes the EAL print instead of starting (usage or version text); remove it`,
        section: 'dpdk', key: 'extra_args',
      });
    }
    for (const [a, first, key] of [['--proc-type=secondary', '--proc-type=secondary', 'proc_type'],
      ['--proc-type secondary', '--proc-type', 'proc_type'], ['--huge-dir /mnt', '--huge-dir', 'huge_dir']]) {
      expect(iniError(`[dpdk]\nextra_args = ${a}\n`)).toEqual({
        message: `ffnet.ini: [dpdk] extra_args: "${first}" is set from the ${key} key; set it there instead`,
        section: 'dpdk', key: 'extra_args',
      });
    }
  });
  it('multi-process: a bad process type, queue count, proc_id or hugepage mount', () => {
    expect(iniError('[dpdk]\nproc_type = worker\n')).toEqual({
      message: 'ffnet.ini: [dpdk] proc_type: "worker" is not a process type (primary, secondary or auto)',
      section: 'dpdk', key: 'proc_type',
    });
    expect(iniError('[dpdk]\nnb_procs = 17\n')).toEqual({
      message: 'ffnet.ini: [dpdk] nb_procs: 17 is out of range (0..16 processes)', section: 'dpdk', key: 'nb_procs',
    });
    expect(iniError('[dpdk]\nno_huge = false\nproc_type = secondary\nproc_id = 0\n').key).toBe('proc_id');
    expect(iniError('[dpdk]\nhuge_dir = mnt/huge\n')).toEqual({
      message: 'ffnet.ini: [dpdk] huge_dir: "mnt/huge" is not an absolute path', section: 'dpdk', key: 'huge_dir',
    });
  });

  it('multi-process needs hugepages and one inline lcore per process; only a secondary has a proc_id', () => {
    for (const keys of ['proc_type = secondary', 'proc_type = auto', 'nb_procs = 2']) {
      expect(iniError(`[dpdk]\n${keys}\n`)).toEqual({
        message: 'ffnet.ini: [dpdk] no_huge: a multi-process stack needs hugepages (a DPDK secondary cannot map --no-huge '
          + 'memory): set no_huge = false',
        section: 'dpdk', key: 'no_huge',
      });
    }
    expect(iniError('[dpdk]\nno_huge = false\nnb_procs = 2\nlcore_mask = 0x3\n')).toEqual({
      message: 'ffnet.ini: [dpdk] lcore_mask: a multi-process stack runs inline, one lcore per process: lcore_mask must be '
        + '0x1, not 0x3',
      section: 'dpdk', key: 'lcore_mask',
    });
    expect(iniError('[dpdk]\nproc_id = 1\n')).toEqual({
      message: 'ffnet.ini: [dpdk] proc_id: only a secondary process serves a queue of its own (proc_type = secondary or auto)',
      section: 'dpdk', key: 'proc_id',
    });
  });
});

/**
 * The IPv6 keys of [portN], each bad value with its message (test/stack/ff_config_test.c checks the
 * C reader's, config-differential.test.ts that both readers agree).
 */
const IPV6_ERRORS: Array<[text: string, message: string, key: string]> = [
  ['addr6[] = 2001:db8::2\n', '[port0] addr6: "2001:db8::2" is not an IPv6 address with a prefix length (ADDR/PREFIXLEN, e.g. 2001:db8::2/64)', 'addr6'],
  ['addr6[] = 2001:db8::2/064\n', '[port0] addr6: "2001:db8::2/064" is not an IPv6 address with a prefix length (ADDR/PREFIXLEN, e.g. 2001:db8::2/64)', 'addr6'],
  ['addr6[] = 2001:db8::2/64/1\n', '[port0] addr6: "2001:db8::2/64/1" is not an IPv6 address with a prefix length (ADDR/PREFIXLEN, e.g. 2001:db8::2/64)', 'addr6'],
  ['addr6[] = 2001:db8::g/64\n', '[port0] addr6: "2001:db8::g/64": "2001:db8::g" is not an IPv6 address', 'addr6'],
  ['addr6[] = 2001:db8::2%port0/64\n', '[port0] addr6: "2001:db8::2%port0/64": "2001:db8::2%port0" is not an IPv6 address', 'addr6'],
  ['addr6[] = 1:2:3:4:5:6:7:8:9/64\n', '[port0] addr6: "1:2:3:4:5:6:7:8:9/64": "1:2:3:4:5:6:7:8:9" is not an IPv6 address', 'addr6'],
  ['addr6[] = 2001:DB8::2/129\n', '[port0] addr6: 2001:db8::2/129: prefix length 129 is out of range (1..128)', 'addr6'],
  ['addr6[] = 2001:db8::2/0\n', '[port0] addr6: 2001:db8::2/0: prefix length 0 is out of range (1..128)', 'addr6'],
  ['addr6[] = ::/64\n', '[port0] addr6: :: is not usable as a port address (unspecified)', 'addr6'],
  ['addr6[] = ::1/128\n', '[port0] addr6: ::1 is not usable as a port address (loopback)', 'addr6'],
  ['addr6[] = ff02::1/64\n', '[port0] addr6: ff02::1 is not usable as a port address (multicast)', 'addr6'],
  ['addr6[] = ::ffff:10.77.0.2/96\n', '[port0] addr6: ::ffff:10.77.0.2 is not usable as a port address (IPv4-mapped)', 'addr6'],
  ['addr6[] = fe80::2/64\n', '[port0] addr6: fe80::2 is not usable as a port address (link-local: every port derives its own from its MAC)', 'addr6'],
  ['addr6[] = 2001:db8:0:1::/64\n', '[port0] addr6: 2001:db8:0:1:: is the subnet-router anycast address of 2001:db8:0:1::/64, not a host address', 'addr6'],
  ['addr6[] = 2001:db8::2/64\naddr6[] = 2001:0db8:0::2/48\n', '[port0] addr6: 2001:db8::2 is listed twice', 'addr6'],
  ['addr6[] =\n', '[port0] addr6: empty entry', 'addr6'],
  ['addr6[] = 2001:db8::2/64\naddr6[] = 2001:db8::3/64\naddr6[] = 2001:db8::4/64\naddr6[] = 2001:db8::5/64\naddr6[] = 2001:db8::6/64\n',
    '[port0] addr6: at most 4 entries', 'addr6'],
  ['addr6 = 2001:db8::2/64\naddr6 = 2001:db8::3/64\n', '[port0] addr6: set more than once (write "addr6[] = ..." once per value)', 'addr6'],
  ['gateway6 = 2001:db8::1::2\n', '[port0] gateway6: "2001:db8::1::2" is not an IPv6 address', 'gateway6'],
  ['gateway6 = ff02::2\n', '[port0] gateway6: ff02::2 is not usable as a gateway (multicast)', 'gateway6'],
  ['gateway6 = ::\n', '[port0] gateway6: :: is not usable as a gateway (unspecified)', 'gateway6'],
  ['gateway6 = 2001:db8::1\n', '[port0] gateway6: 2001:db8::1 is neither link-local (fe80::/10) nor on a prefix of the port (it has no addr6)', 'gateway6'],
  ['addr6[] = 2001:db8::2/64\naddr6[] = fd00:1::5/48\ngateway6 = 2001:db9::1\n',
    '[port0] gateway6: 2001:db9::1 is neither link-local (fe80::/10) nor on a prefix of the port (2001:db8::/64, fd00:1::/48)', 'gateway6'],
  ['addr6[] = 2001:db8::2/64\ngateway6 = 2001:db8::2\n', '[port0] gateway6: 2001:db8::2 is the port\'s own address', 'gateway6'],
  ['gateway6[] = fe80::1\n', '[port0] gateway6: takes one value, got a list of 1 (write "gateway6 = ...", not "gateway6[] = ...")', 'gateway6'],
  ['gateway6 =\n', '[port0] gateway6: empty value (remove the line to use the default)', 'gateway6'],
  ['ipv6 = maybe\n', '[port0] ipv6: "maybe" is not a boolean (true/false, yes/no, on/off, 1/0)', 'ipv6'],
  ['ipv6 = 0\naddr6[] = 2001:db8::2/64\n', '[port0] ipv6: IPv6 is off on the port, yet addr6 is set (remove it, or turn IPv6 on)', 'ipv6'],
  ['ipv6 = off\ngateway6 = fe80::1\n', '[port0] ipv6: IPv6 is off on the port, yet gateway6 is set (remove it, or turn IPv6 on)', 'ipv6'],
  ['ipv6 = off\nndp[] = fe80::9 02:00:00:00:00:09\n', '[port0] ipv6: IPv6 is off on the port, yet ndp is set (remove it, or turn IPv6 on)', 'ipv6'],
  ['ndp[] =\n', '[port0] ndp: empty entry', 'ndp'],
  ['ndp[] = fe80::9\n', '[port0] ndp: entry "fe80::9": expected "ADDR MAC", e.g. "fe80::9 02:00:00:00:00:09"', 'ndp'],
  ['ndp[] = fe80::9 02:00:00:00:00:09 x\n',
    '[port0] ndp: entry "fe80::9 02:00:00:00:00:09 x": expected "ADDR MAC", e.g. "fe80::9 02:00:00:00:00:09"', 'ndp'],
  ['ndp[] = 10.77.0.9 02:00:00:00:00:09\n', '[port0] ndp: entry "10.77.0.9 02:00:00:00:00:09": "10.77.0.9" is not an IPv6 address', 'ndp'],
  ['ndp[] = fe80::9%port0 02:00:00:00:00:09\n',
    '[port0] ndp: entry "fe80::9%port0 02:00:00:00:00:09": "fe80::9%port0" is not an IPv6 address', 'ndp'],
  ['ndp[] = fe80::9 02:00:00:00:00\n',
    '[port0] ndp: entry "fe80::9 02:00:00:00:00": "02:00:00:00:00" is not a MAC address (aa:bb:cc:dd:ee:ff)', 'ndp'],
  ['ndp[] = fe80::9 33:33:00:00:00:01\n', '[port0] ndp: entry "fe80::9 33:33:00:00:00:01": 33:33:00:00:00:01 is not a unicast MAC address', 'ndp'],
  ['ndp[] = fe80::9 00:00:00:00:00:00\n', '[port0] ndp: entry "fe80::9 00:00:00:00:00:00": 00:00:00:00:00:00 is not a usable MAC address', 'ndp'],
  ['ndp[] = :: 02:00:00:00:00:09\n', '[port0] ndp: entry ":: 02:00:00:00:00:09": :: is not usable as a neighbour (unspecified)', 'ndp'],
  ['ndp[] = ::1 02:00:00:00:00:09\n', '[port0] ndp: entry "::1 02:00:00:00:00:09": ::1 is not usable as a neighbour (loopback)', 'ndp'],
  ['ndp[] = ff02::1 02:00:00:00:00:09\n', '[port0] ndp: entry "ff02::1 02:00:00:00:00:09": ff02::1 is not usable as a neighbour (multicast)', 'ndp'],
  ['ndp[] = ::ffff:10.77.0.9 02:00:00:00:00:09\n',
    '[port0] ndp: entry "::ffff:10.77.0.9 02:00:00:00:00:09": ::ffff:10.77.0.9 is not usable as a neighbour (IPv4-mapped)', 'ndp'],
  ['ndp[] = 2001:db8::9 02:00:00:00:00:09\n',
    '[port0] ndp: entry "2001:db8::9 02:00:00:00:00:09": 2001:db8::9 is neither link-local (fe80::/10) nor on a prefix of the port (it has no addr6)', 'ndp'],
  ['addr6[] = 2001:db8::2/64\naddr6[] = fd00:1::5/48\nndp[] = 2001:db9::9 02:00:00:00:00:09\n',
    '[port0] ndp: entry "2001:db9::9 02:00:00:00:00:09": 2001:db9::9 is neither link-local (fe80::/10) nor on a prefix of the port '
    + '(2001:db8::/64, fd00:1::/48)', 'ndp'],
  ['addr6[] = 2001:db8::2/64\nndp[] = 2001:DB8::2 02:00:00:00:00:09\n',
    '[port0] ndp: entry "2001:DB8::2 02:00:00:00:00:09": 2001:db8::2 is the port\'s own address', 'ndp'],
  ['ndp[] = fe80::9 02:00:00:00:00:09\nndp[] = FE80::9 02:00:00:00:00:08\n',
    '[port0] ndp: entry "FE80::9 02:00:00:00:00:08": fe80::9 already has an entry', 'ndp'],
  [Array.from({ length: 65 }, (_, i) => `ndp[] = fe80::${(i + 1).toString(16)} 02:00:00:00:00:01\n`).join(''), '[port0] ndp: at most 64 entries', 'ndp'],
  ['ndp = fe80::9 02:00:00:00:00:09\nndp = fe80::8 02:00:00:00:00:08\n', '[port0] ndp: set more than once (write "ndp[] = ..." once per value)', 'ndp'],
];

/**
 * The exception path's keys of [portN], each bad value with its message (test/stack/ff_config_test.c
 * checks the C reader's, config-differential.test.ts that both readers agree).
 */
const EXCEPTION_ERRORS: Array<[text: string, message: string, key: string]> = [
  ["exception = kni\n", "[port0] exception: \"kni\" is not an exception path (none, tap or virtio-user)", 'exception'],
  ["exception =\n", "[port0] exception: empty value (remove the line to use the default)", 'exception'],
  ["exception_tcp_port = 22\n", "[port0] exception: the exception path is off (none), yet exception_tcp_port is set (remove it, or set exception = tap or virtio-user)", 'exception'],
  ["exception = none\nexception_queue = 64\n", "[port0] exception: the exception path is off (none), yet exception_queue is set (remove it, or set exception = tap or virtio-user)", 'exception'],
  ["exception = tap\nexception_iface = ffx0123456789abc\n", "[port0] exception_iface: \"ffx0123456789abc\" is longer than 15 characters (a kernel interface name)", 'exception_iface'],
  ["exception = tap\nexception_iface = -ffx\n", "[port0] exception_iface: \"-ffx\" is not an interface name (letters, digits, '_', '.' and '-', not first '.' or '-')", 'exception_iface'],
  ["exception = tap\nexception_iface = ffx/0\n", "[port0] exception_iface: \"ffx/0\" is not an interface name (letters, digits, '_', '.' and '-', not first '.' or '-')", 'exception_iface'],
  ["exception = tap\nexception_tcp_port = 22,ssh\n", "[port0] exception_tcp_port: entry \"ssh\" is not a port or a range of ports (e.g. 22 or 8000-8100; entries separated by ',')", 'exception_tcp_port'],
  ["exception = tap\nexception_tcp_port = 22,,80\n", "[port0] exception_tcp_port: entry \"\" is not a port or a range of ports (e.g. 22 or 8000-8100; entries separated by ',')", 'exception_tcp_port'],
  ["exception = tap\nexception_tcp_port = 0\n", "[port0] exception_tcp_port: entry \"0\" is out of range (1..65535)", 'exception_tcp_port'],
  ["exception = tap\nexception_udp_port = 53,65536\n", "[port0] exception_udp_port: entry \"65536\" is out of range (1..65535)", 'exception_udp_port'],
  ["exception = tap\nexception_udp_port = 8100-8000\n", "[port0] exception_udp_port: entry \"8100-8000\" ends before it starts", 'exception_udp_port'],
  ["exception = tap\nexception_udp_port = 1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31,32,33\n", "[port0] exception_udp_port: at most 32 entries", 'exception_udp_port'],
  ["exception = tap\nexception_udp_unbound = maybe\n", "[port0] exception_udp_unbound: \"maybe\" is not a boolean (true/false, yes/no, on/off, 1/0)", 'exception_udp_unbound'],
  ["exception = tap\nexception_queue = 4\n", "[port0] exception_queue: 4 is out of range (8..65536 frames)", 'exception_queue'],
  ["exception = tap\nexception_iface[] = ffx9\n", "[port0] exception_iface: takes one value, got a list of 1 (write \"exception_iface = ...\", not \"exception_iface[] = ...\")", 'exception_iface'],
];

describe('exception-path keys of [portN]', () => {
  it.each(EXCEPTION_ERRORS)('%j', (text, message, key) => {
    expect(iniError(`${PORT}${text}`)).toEqual({ message: `ffnet.ini: ${message}`, section: 'port0', key });
  });

  it('an exception interface already another port\'s', () => {
    const text = `${PORT}exception = tap\nexception_iface = kni0\n[port1]\naddr = 10.78.0.2\nnetmask = 255.255.255.0\n`
      + 'exception = virtio-user\nexception_iface = kni0\n';
    expect(iniError(text)).toEqual({
      message: 'ffnet.ini: [port1] exception_iface: "kni0" is already the exception interface of [port0]', section: 'port1', key: 'exception_iface',
    });
  });

  it('reads the keys, with their defaults, into the port and the native config', () => {
    const port0 = { addr: '10.77.0.2', netmask: '255.255.255.0' };
    const cfg = validateConfig({ port0: { ...port0, exception: 'tap', exception_tcp_port: '22, 8000-8100', exception_udp_port: 53 },
      port1: { addr: '10.78.0.2', netmask: '255.255.255.0' } }, '<config object>');
    expect(cfg.ports[0]!.exception).toEqual({ kind: 'tap', iface: 'ffx0', tcpPorts: [[22, 22], [8000, 8100]], udpPorts: [[53, 53]],
      udpUnbound: true, queue: 1024 });
    expect(cfg.ports[1]!.exception).toBeUndefined();
  });
});

describe('IPv6 keys of [portN]', () => {
  it.each(IPV6_ERRORS)('%j', (text, message, key) => {
    expect(iniError(`${PORT}${text}`)).toEqual({ message: `ffnet.ini: ${message}`, section: 'port0', key });
  });

  it('an address already on another port', () => {
    const text = `${PORT}addr6[] = 2001:db8::2/64\n[port1]\naddr = 10.78.0.2\nnetmask = 255.255.255.0\naddr6[] = 2001:DB8:0::2/56\n`;
    expect(iniError(text)).toEqual({
      message: 'ffnet.ini: [port1] addr6: 2001:db8::2 is already an address of [port0]', section: 'port1', key: 'addr6',
    });
  });

  it('objects take ndp entries as "ADDR MAC" strings or { addr, mac }', () => {
    const port0 = { addr: '10.77.0.2', netmask: '255.255.255.0', addr6: '2001:db8::2/64' };
    const cfg = validateConfig({ port0: { ...port0, ndp: ['fe80::9 02:00:00:00:00:09', { addr: '2001:DB8::9', mac: '02:AA:00:00:00:19' }] } },
      '<config object>');
    expect(cfg.ports[0]!.staticNdp).toEqual([{ addr: 'fe80::9', mac: '02:00:00:00:00:09' }, { addr: '2001:db8::9', mac: '02:aa:00:00:00:19' }]);
    expect(errorOf(() => validateConfig({ port0: { ...port0, ndp: [{ addr: 'fe80::9', mac: '02:00:00:00:00:09', router: true }] } },
      '<config object>')).message)
      .toBe('<config object>: [port0] ndp: entry "fe80::9 02:00:00:00:00:09": unknown field "router" (expected { addr, mac })');
    expect(errorOf(() => validateConfig({ port0: { ...port0, ndp: [7] } }, '<config object>')).message)
      .toBe('<config object>: [port0] ndp: expected a string or { addr, mac } for each entry, got 7');
  });

  it('objects take addr6 as a list or one string', () => {
    const cfg = validateConfig({ port0: { addr: '10.77.0.2', netmask: '255.255.255.0', addr6: '2001:db8::2/64', ipv6: true } }, '<config object>');
    expect(cfg.ports[0]!.addr6).toEqual([{ addr: '2001:db8::2', prefixLength: 64 }]);
    expect(errorOf(() => validateConfig({ port0: { addr: '10.77.0.2', netmask: '255.255.255.0', addr6: [64] } }, '<config object>')).message)
      .toBe('<config object>: [port0] addr6: expected a string for each entry, got 64');
  });
});

describe('[sysctl]', () => {
  it('unknown sysctl', () => {
    expect(iniError('[sysctl]\nnet.inet.ip.tll = 3\n')).toEqual({
      message: 'ffnet.ini: unknown sysctl "net.inet.ip.tll" in [sysctl] (known: net.link.ether.inet.max_age, '
        + 'net.link.ether.inet.maxtries, net.link.ether.inet.maxhold_bytes, net.link.ether.inet.maxhold, net.link.ether.inet.rexmit_ms, net.link.ether.inet.max_entries, '
        + 'net.inet6.icmp6.nd6_max_age, net.inet6.icmp6.nd6_retrans_ms, net.inet6.icmp6.nd6_maxqueuelen_bytes, net.inet6.icmp6.nd6_maxqueuelen, net.inet.ip.ttl, net.inet.icmp.icmplim, '
        + 'net.inet.ip.portrange.first, net.inet.ip.portrange.last, net.inet.ip.maxfragpackets, net.inet.ip.maxfragsperpacket, '
        + 'net.inet.ip.maxfragbytes, net.inet.ip.fragttl, net.inet6.ip6.fragttl, net.inet.igmp.default_version, net.inet6.mld.version, kern.ipc.maxsockbuf, net.inet.udp.recvmbufs, net.inet.udp.tx_csum_offload, '
        + 'net.inet6.ip6.hlim, net.inet6.ip6.dad_count, net.inet6.ip6.accept_rtadv, net.inet6.ip6.v6only, net.inet6.icmp6.errppslimit, '
        + 'net.inet6.icmp6.nd6_maxnudhint, net.inet6.icmp6.nd6_prune, net.inet6.icmp6.nd6_delay, net.inet6.icmp6.nd6_umaxtries, '
        + 'net.inet6.icmp6.nd6_mmaxtries, dev.fault.rx_drop_ppm, dev.fault.rx_dup_ppm, '
        + 'dev.fault.rx_reorder_ppm, dev.fault.seed)',
      section: 'sysctl', key: 'net.inet.ip.tll',
    });
  });

  it('sysctl out of range or not an integer', () => {
    expect(iniError('[sysctl]\nnet.inet.ip.ttl = 256\n')).toEqual({
      message: 'ffnet.ini: [sysctl] net.inet.ip.ttl: 256 is out of range (1..255 hops)', section: 'sysctl', key: 'net.inet.ip.ttl',
    });
    expect(iniError('[sysctl]\nnet.link.ether.inet.rexmit_ms = 5\n').message)
      .toBe('ffnet.ini: [sysctl] net.link.ether.inet.rexmit_ms: 5 is out of range (10..60000 ms)');
    expect(iniError('[sysctl]\nnet.inet.ip.ttl = 6x4\n').message).toBe('ffnet.ini: [sysctl] net.inet.ip.ttl: "6x4" is not a decimal integer');
    expect(iniError('[sysctl]\ndev.fault.rx_drop_ppm = 1000001\n').message)
      .toBe('ffnet.ini: [sysctl] dev.fault.rx_drop_ppm: 1000001 is out of range (0..1000000 ppm)');
    expect(iniError('[sysctl]\ndev.fault.seed = 2147483648\n').message)
      .toBe('ffnet.ini: [sysctl] dev.fault.seed: 2147483648 is out of range (0..2147483647)');
  });
});
