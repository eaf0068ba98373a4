// A simulated host for the Proxier without root: iptables-restore/-save as --noflush applies them, and an
// nftables "kernel" that runs the subset of `nft -f` input kubelite writes with the kernel's rules that
// matter here (a transaction is all or nothing; a missing chain, element or set is an error; a chain or
// set still referenced cannot be deleted; an element added twice with another verdict is an error).

import type { DeviceAction, DeviceState } from '../../../src/netfilter/device.js';
import type { JumpPlan } from '../../../src/netfilter/iptables.js';
import type { Table } from '../../../src/netfilter/names.js';
import { NFT, NFT_MAPS, type NftMapName } from '../../../src/netfilter/nft-names.js';
import { parseNftTable } from '../../../src/netfilter/nft-parse.js';
import type { NftState } from '../../../src/netfilter/nft-render.js';
import type { NetfilterHost } from '../../../src/netfilter/plane.js';

export interface FakeTable {
  comment?: string;
  sets: Map<string, string>;
  state: NftState;
}

function cloneTable(t: FakeTable): FakeTable {
  return {
    comment: t.comment,
    sets: new Map(t.sets),
    state: {
      chains: new Map([...t.state.chains].map(([k, c]) => [k, { ...c, rules: [...c.rules] }])),
      maps: Object.fromEntries(NFT_MAPS.map((m) => [m, new Map(t.state.maps[m])])) as Record<NftMapName, Map<string, string>>,
      hairpin: new Set(t.state.hairpin),
      affinity: new Map(t.state.affinity),
    },
  };
}

function emptyTable(): FakeTable {
  const p = parseNftTable('table ip x {\n}\n', 'x')!;
  return { sets: new Map(), state: p.state };
}

export class FakeHost implements NetfilterHost {
  // ---- iptables ----
  tables: Record<Table, Map<string, string[]>> = { nat: new Map(), filter: new Map() };
  restores: string[] = [];
  saves = 0;
  jumpChecks: { forwardOnly?: boolean }[] = [];
  conntrack: string[][] = [];
  device: DeviceState = { exists: false, up: false, routes: [], addresses: [] };
  // ---- nftables ----
  nft = new Map<string, FakeTable>();
  applied: string[] = [];
  listTableCalls = 0;
  listChainsCalls = 0;
  nftFailures = 0;
  deletedTables: string[] = [];

  async restore(text: string): Promise<void> {
    this.restores.push(text);
    let t: Map<string, string[]> | undefined;
    const next = { nat: new Map(this.tables.nat), filter: new Map(this.tables.filter) };
    for (const line of text.split('\n')) {
      if (line.startsWith('*')) t = next[line.slice(1) as Table];
      else if (line.startsWith(':')) t!.set(line.slice(1).split(' ')[0], []);
      else if (line.startsWith('-A ')) t!.get(line.split(' ')[1])!.push(line);
      else if (line.startsWith('-X ')) t!.delete(line.slice(3));
      else if (line.startsWith('-D ')) {
        const chain = line.split(' ')[1];
        const rule = `-A ${line.slice(3)}`;
        t!.set(chain, (t!.get(chain) ?? []).filter((r) => r !== rule));
      }
    }
    this.tables = next;
  }
  async save(table: Table): Promise<string> {
    this.saves++;
    const out = [`*${table}`];
    for (const c of this.tables[table].keys()) out.push(`:${c} - [0:0]`);
    for (const rules of this.tables[table].values()) out.push(...rules);
    out.push('COMMIT');
    return out.join('\n');
  }
  async ensureJumps(_cn: unknown, _known?: unknown, opts: { forwardOnly?: boolean } = {}): Promise<JumpPlan> {
    this.jumpChecks.push(opts);
    return { insert: [], remove: [] };
  }
  async conntrackDelete(args: string[]): Promise<number> {
    this.conntrack.push(args);
    return 0;
  }
  async readDevice(): Promise<DeviceState> {
    return structuredClone(this.device);
  }
  async applyDevice(_dev: string, actions: DeviceAction[]): Promise<void> {
    for (const a of actions) {
      if (a.op === 'create') this.device.exists = true;
      if (a.op === 'up') this.device.up = true;
      if (a.op === 'route-replace') this.device.routes.push(a.cidr);
    }
  }

  // ---- nftables ----

  async nftApply(text: string): Promise<void> {
    this.applied.push(text);
    if (this.nftFailures > 0) {
      this.nftFailures--;
      throw new Error('nft -f: line 1: Error: Could not process rule: Device or resource busy');
    }
    const next = new Map([...this.nft].map(([k, v]) => [k, cloneTable(v)]));
    const lines = text.split('\n');
    for (let i = 0; i < lines.length; i++) {
      const line = lines[i];
      if (!line.trim()) continue;
      let m: RegExpExecArray | null;
      if ((m = /^table ip (\S+) \{$/.exec(line))) {
        const block = [line];
        while (lines[++i] !== '}') block.push(lines[i]);
        block.push('}');
        const p = parseNftTable(block.join('\n'), m[1])!;
        next.set(m[1], { comment: p.comment, sets: p.sets, state: p.state });
      } else if ((m = /^table ip (\S+)$/.exec(line))) {
        if (!next.has(m[1])) next.set(m[1], emptyTable());
      } else if ((m = /^delete table ip (\S+)$/.exec(line))) {
        if (!next.delete(m[1])) throw new Error(`nft: no table ${m[1]}`);
      } else if ((m = /^(add|flush|delete) (chain|set|rule|element) ip (\S+) (\S+)(?: (.*))?$/.exec(line))) {
        const t = next.get(m[3]);
        if (!t) throw new Error(`nft: no table ${m[3]}`);
        this.command(t, m[1], m[2], m[4], m[5] ?? '');
      } else {
        throw new Error(`fake nft: cannot run ${JSON.stringify(line)}`);
      }
    }
    this.nft = next;
  }

  private command(t: FakeTable, verb: string, what: string, name: string, rest: string): void {
    const chains = t.state.chains;
    const referenced = (target: string) =>
      [...chains.values()].some((c) => c.rules.some((r) => [...r.matchAll(/(?:goto|jump) (\S+)/g)].some((x) => x[1] === target))) ||
      NFT_MAPS.some((m) => [...t.state.maps[m].values()].includes(`goto ${target}`));
    if (what === 'chain') {
      if (verb === 'add') {
        if (!chains.has(name)) {
          const hook = /(type \S+ hook .*? policy accept;)/.exec(rest)?.[1];
          const comment = /comment "([^"]*)"/.exec(rest)?.[1];
          chains.set(name, { rules: [], ...(hook ? { hook } : {}), ...(comment ? { comment } : {}) });
        }
        return;
      }
      const c = chains.get(name);
      if (!c) throw new Error(`nft: no chain ${name}`);
      if (verb === 'flush') (c as { rules: string[] }).rules = [];
      else {
        if (c.rules.length || referenced(name)) throw new Error(`nft: chain ${name} busy`);
        chains.delete(name);
      }
    } else if (what === 'rule') {
      const c = chains.get(name) as { rules: string[] } | undefined;
      if (!c) throw new Error(`nft: no chain ${name}`);
      for (const ref of rest.matchAll(/(?:goto|jump) (\S+)/g)) if (!chains.has(ref[1])) throw new Error(`nft: no chain ${ref[1]}`);
      for (const ref of rest.matchAll(/@(\S+)/g)) if (!t.sets.has(ref[1]) && !t.state.affinity.has(ref[1])) throw new Error(`nft: no set ${ref[1]}`);
      c.rules.push(rest);
    } else if (what === 'set') {
      if (verb === 'add') {
        const timeout = /timeout (\d+)s/.exec(rest);
        if (!timeout) throw new Error(`fake nft: set without timeout ${rest}`);
        t.state.affinity.set(name, Number(timeout[1]));
        t.sets.set(name, 'type ipv4_addr');
      } else {
        if (!t.state.affinity.has(name)) throw new Error(`nft: no set ${name}`);
        if ([...chains.values()].some((c) => c.rules.some((r) => r.includes(`@${name} `)))) throw new Error(`nft: set ${name} busy`);
        t.state.affinity.delete(name);
        t.sets.delete(name);
      }
    } else if (what === 'element') {
      const items = rest.replace(/^\{ /, '').replace(/ \}$/, '').split(', ');
      if (name === NFT.hairpin) {
        for (const e of items) {
          const ip = e.split(' . ')[0];
          if (verb === 'add') t.state.hairpin.add(ip);
          else if (!t.state.hairpin.delete(ip)) throw new Error(`nft: no element ${e}`);
        }
        return;
      }
      const map = t.state.maps[name as NftMapName];
      if (!map) throw new Error(`nft: no map ${name}`);
      for (const e of items) {
        if (verb === 'delete') {
          if (!map.delete(e)) throw new Error(`nft: no element ${e} in ${name}`);
          continue;
        }
        const [k, v] = e.split(' : ');
        if (!chains.has(v.replace(/^goto /, ''))) throw new Error(`nft: no chain for ${e}`);
        if (map.has(k) && map.get(k) !== v) throw new Error(`nft: element ${k} exists`);
        map.set(k, v);
      }
    }
  }

  async nftListTable(table: string): Promise<string | undefined> {
    this.listTableCalls++;
    const t = this.nft.get(table);
    if (!t) return undefined;
    const out = [`table ip ${table} {`];
    if (t.comment) out.push(`\tcomment "${t.comment}"`);
    for (const [name, type] of t.sets) {
      out.push(`\t${type.endsWith('verdict') ? 'map' : 'set'} ${name} {`, `\t\t${type}`);
      if (t.state.affinity.has(name)) out.push('\t\tsize 65535', '\t\tflags dynamic,timeout', `\t\ttimeout ${t.state.affinity.get(name)}s`);
      const els = NFT_MAPS.includes(name as NftMapName)
        ? [...t.state.maps[name as NftMapName]].map(([k, v]) => `${k} : ${v}`)
        : name === NFT.hairpin
          ? [...t.state.hairpin].map((ip) => `${ip} . ${ip}`)
          : [];
      if (els.length) out.push(`\t\telements = { ${els.join(',\n\t\t\t     ')} }`);
      out.push('\t}', '');
    }
    for (const [name, c] of t.state.chains) {
      out.push(`\tchain ${name} {`);
      if (c.hook) out.push(`\t\t${c.hook}`);
      if (c.comment) out.push(`\t\tcomment "${c.comment}"`);
      for (const r of c.rules) out.push(`\t\t${r.replace(/\bcounter\b/, 'counter packets 3 bytes 180')}`);
      out.push('\t}', '');
    }
    out.push('}');
    return out.join('\n') + '\n';
  }

  async nftListChains(): Promise<string> {
    this.listChainsCalls++;
    const out: string[] = ['table ip filter {', '\tchain FORWARD {', '\t\ttype filter hook forward priority filter; policy drop;', '\t}', '}'];
    for (const [name, t] of this.nft) {
      out.push(`table ip ${name} {`);
      for (const [c, chain] of t.state.chains) out.push(`\tchain ${c} {`, ...(chain.hook ? [`\t\t${chain.hook}`] : []), ...(chain.comment ? [`\t\tcomment "${chain.comment}"`] : []), '\t}');
      out.push('}');
    }
    return out.join('\n') + '\n';
  }

  async nftDeleteTable(table: string): Promise<boolean> {
    if (!this.nft.delete(table)) return false;
    this.deletedTables.push(table);
    return true;
  }

  /** The fake kernel's table as a state (for comparing with a render). */
  table(name: string): FakeTable | undefined {
    return this.nft.get(name);
  }
}

