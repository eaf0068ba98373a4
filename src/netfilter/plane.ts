// What the Proxier's sync loop needs from a data plane (iptables or nftables), and the host side effects
// both planes use, replaceable so the scheduling and repair logic can be tested without root.

import type { DeviceAction, DeviceState } from './device.js';
import type { JumpHosts, JumpPlan } from './iptables.js';
import type { ModelDelta } from './model-cache.js';
import type { ProxyService } from './model.js';
import type { ChainNames, Table } from './names.js';

export type ProxyMode = 'iptables' | 'nftables';
export const PROXY_MODES: readonly ProxyMode[] = ['nftables', 'iptables'];

export interface ProxierLogger {
  info(msg: string): void;
  warn(msg: string): void;
  error(msg: string): void;
}

export interface NetfilterHost {
  restore(text: string): Promise<void>;
  save(table: Table): Promise<string>;
  /** `known`: the host chains as a full resync just read them (else they are listed). */
  ensureJumps(cn: ChainNames, known?: JumpHosts, opts?: { forwardOnly?: boolean }): Promise<JumpPlan>;
  conntrackDelete(args: string[]): Promise<number>;
  readDevice(dev: string): Promise<DeviceState>;
  applyDevice(dev: string, actions: DeviceAction[]): Promise<void>;
  /** nftables (optional so a host without it can still run the iptables mode). */
  nftApply?(text: string): Promise<void>;
  nftListTable?(table: string): Promise<string | undefined>;
  nftListChains?(): Promise<string>;
  nftDeleteTable?(table: string): Promise<boolean>;
}

export interface SyncResult {
  ok: boolean;
  full: boolean;
  error?: Error;
  /** Chains written + deleted, per table. */
  chainsWritten: number;
  chainsDeleted: number;
  rulesWritten: number;
  /** nftables: map and set elements added or deleted. */
  elementsWritten?: number;
  /** nftables: the whole table was written in this sync (first load, after a refusal, or a repair). */
  fullRender?: boolean;
  durationMs: number;
}

export interface DataPlane {
  readonly mode: ProxyMode;
  /**
   * Called at the start of a full sync, before the model is taken: reads what the kernel holds (a
   * change that arrives during a slow read is then part of this sync, not the next).
   */
  readKernel(): Promise<void>;
  /**
   * Makes the kernel hold the rules for `model` (`prev`: the model of the last successful sync). Adds
   * to `result` what it wrote; returns a line for the log when a full sync repaired something. Throws
   * when the kernel refused: the previous rules are still in force. `delta`: the service ports that
   * changed since the previous call (a plane may then work in proportion to the change).
   */
  write(model: ProxyService[], prev: ProxyService[] | undefined, full: boolean, result: SyncResult, delta?: ModelDelta): Promise<string | undefined>;
  /** After a failed sync: trust nothing remembered about the kernel. */
  reset(): void;
}
