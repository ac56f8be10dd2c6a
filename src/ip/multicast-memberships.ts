/**
 * A host's multicast reception state, for either IP version (RFC 3376 §3.2 for IGMPv3, RFC 3810 §4.2 for
 * MLDv2): per group, how many sockets joined it for any source, and how many asked for each source
 * (source-specific joins, RFC 4607). The interface state follows the RFC's merge rule for the filters
 * sockets can ask for here (any-source = EXCLUDE {}, source-specific = INCLUDE {sources}): EXCLUDE {} while
 * any socket wants every source, else INCLUDE of the union of the sources asked for; INCLUDE {} is no
 * membership at all.
 *
 * Every change that alters the interface state is reported at once (RFC 3376 §5.1, RFC 3810 §6.1):
 * ALLOW/BLOCK for a changed source list in the same mode, CHANGE_TO_INCLUDE/EXCLUDE for a mode change; and
 * once more after a random delay of up to the Unsolicited Report Interval (Robustness Variable 2: two
 * transmissions in all). Changes in quick succession share one repeat, which says where every source
 * they touched stands now (ALLOW or BLOCK), or, when one of them changed the filter mode, the whole
 * state (CHANGE_TO_INCLUDE/EXCLUDE): a change undone before the repeat is still repeated, as routers
 * may have heard it.
 */

import type { Clock, TimerHandle } from '../time/clock.js';
import type { Random } from '../util/random.js';
import {
  ALLOW_NEW_SOURCES,
  BLOCK_OLD_SOURCES,
  CHANGE_TO_EXCLUDE_MODE,
  CHANGE_TO_INCLUDE_MODE,
  MODE_IS_EXCLUDE,
  MODE_IS_INCLUDE,
} from '../wire/igmp.js';

export interface GroupRecord<A> {
  recordType: number;
  group: A;
  sources: A[];
}

export interface GroupFilter<A> {
  mode: 'include' | 'exclude';
  sources: A[];
}

interface GroupState<A> {
  anySource: number;
  sources: Map<A, number>;
}

export interface MembershipReporting<A> {
  readonly clock: Clock;
  readonly random: Random;
  /** Sends one state change report of `records` on every interface. */
  send(records: GroupRecord<A>[]): void;
  /** RFC 3376 §8.11 and RFC 3810 §9.11: 1 s. */
  readonly unsolicitedReportIntervalMs: number;
}

export class MulticastMemberships<A extends number | bigint> {
  private readonly groups = new Map<A, GroupState<A>>();
  /** Per group, the repeat still due: the sources its changes touched, whether one changed the mode. */
  private readonly repeats = new Map<A, { touched: Set<A>; modeChanged: boolean; timer: TimerHandle }>();

  constructor(private readonly reporting?: MembershipReporting<A>) {}

  /** A socket joined `group` for every source. */
  join(group: A): GroupRecord<A>[] {
    return this.change(group, (state) => {
      state.anySource++;
    });
  }

  /** A socket left its any-source membership of `group` (a no-op when none is held). */
  leave(group: A): GroupRecord<A>[] {
    return this.change(group, (state) => {
      if (state.anySource > 0) state.anySource--;
    });
  }

  /** A socket asked for `group` from `source` (a source-specific join). */
  addSource(group: A, source: A): GroupRecord<A>[] {
    return this.change(group, (state) => {
      state.sources.set(source, (state.sources.get(source) ?? 0) + 1);
    });
  }

  /** A socket no longer asks for `group` from `source`. */
  dropSource(group: A, source: A): GroupRecord<A>[] {
    return this.change(group, (state) => {
      const count = state.sources.get(source) ?? 0;
      if (count <= 1) state.sources.delete(source);
      else state.sources.set(source, count - 1);
    });
  }

  /** The interface state of `group` (INCLUDE {} when nobody asked for it). */
  filter(group: A): GroupFilter<A> {
    const state = this.groups.get(group);
    if (state === undefined) return { mode: 'include', sources: [] };
    if (state.anySource > 0) return { mode: 'exclude', sources: [] };
    return { mode: 'include', sources: [...state.sources.keys()] };
  }

  /** True when datagrams to `group` are received at all. */
  isMember(group: A): boolean {
    return this.groups.has(group);
  }

  /** True when a datagram from `source` to `group` passes the interface's filter. */
  accepts(group: A, source: A): boolean {
    const state = this.groups.get(group);
    if (state === undefined) return false;
    return state.anySource > 0 || state.sources.has(source);
  }

  /** Every group received. */
  joined(): A[] {
    return [...this.groups.keys()];
  }

  /**
   * The current-state record of `group` (MODE_IS_INCLUDE/EXCLUDE), as a query is answered (RFC 3376 §5.2);
   * `querySources` (a group-and-source-specific query) narrows it to the sources asked about.
   */
  currentState(group: A, querySources: readonly A[] = []): GroupRecord<A> | undefined {
    if (!this.isMember(group)) return undefined;
    const filter = this.filter(group);
    if (querySources.length === 0) {
      return {
        recordType: filter.mode === 'exclude' ? MODE_IS_EXCLUDE : MODE_IS_INCLUDE,
        group,
        sources: filter.sources,
      };
    }
    // §5.2: IS_IN of the queried sources this host receives (all of them in EXCLUDE {} mode).
    const sources = querySources.filter((s) => filter.mode === 'exclude' || filter.sources.includes(s));
    return sources.length === 0 ? undefined : { recordType: MODE_IS_INCLUDE, group, sources };
  }

  /** Cancels the repeats still due (the stack is closing). */
  close(): void {
    for (const repeat of this.repeats.values()) repeat.timer.cancel();
    this.repeats.clear();
  }

  private change(group: A, apply: (state: GroupState<A>) => void): GroupRecord<A>[] {
    const before = this.filter(group);
    const state = this.groups.get(group) ?? { anySource: 0, sources: new Map<A, number>() };
    apply(state);
    if (state.anySource === 0 && state.sources.size === 0) this.groups.delete(group);
    else this.groups.set(group, state);
    const records = stateChangeRecords(group, before, this.filter(group));
    if (records.length > 0) this.report(group, records);
    return records;
  }

  private report(group: A, records: GroupRecord<A>[]): void {
    const reporting = this.reporting;
    if (reporting === undefined) return;
    reporting.send(records);
    const pending = this.repeats.get(group);
    pending?.timer.cancel();
    const touched = pending?.touched ?? new Set<A>();
    let modeChanged = pending?.modeChanged ?? false;
    for (const record of records) {
      for (const source of record.sources) touched.add(source);
      if (record.recordType === CHANGE_TO_INCLUDE_MODE || record.recordType === CHANGE_TO_EXCLUDE_MODE)
        modeChanged = true;
    }
    const delay = reporting.random.int(reporting.unsolicitedReportIntervalMs + 1);
    const timer = reporting.clock.setTimer(delay, () => {
      this.repeats.delete(group);
      reporting.send(this.repeatRecords(group, touched, modeChanged));
    });
    this.repeats.set(group, { touched, modeChanged, timer });
  }

  /** What a repeat says: the whole state after a mode change, else where each touched source stands. */
  private repeatRecords(group: A, touched: Set<A>, modeChanged: boolean): GroupRecord<A>[] {
    const now = this.filter(group);
    if (modeChanged) {
      const recordType = now.mode === 'include' ? CHANGE_TO_INCLUDE_MODE : CHANGE_TO_EXCLUDE_MODE;
      return [{ recordType, group, sources: now.sources }];
    }
    const listed = [...touched].filter((s) => now.sources.includes(s));
    const unlisted = [...touched].filter((s) => !now.sources.includes(s));
    // INCLUDE lists what is received; EXCLUDE lists what is not.
    const [allow, block] = now.mode === 'include' ? [listed, unlisted] : [unlisted, listed];
    const records: GroupRecord<A>[] = [];
    if (allow.length > 0) records.push({ recordType: ALLOW_NEW_SOURCES, group, sources: allow });
    if (block.length > 0) records.push({ recordType: BLOCK_OLD_SOURCES, group, sources: block });
    return records;
  }
}

/** RFC 3376 §5.1's table (RFC 3810 §6.1 is the same) for a change from `before` to `after`. */
export function stateChangeRecords<A>(
  group: A,
  before: GroupFilter<A>,
  after: GroupFilter<A>,
): GroupRecord<A>[] {
  if (before.mode !== after.mode) {
    const recordType = after.mode === 'include' ? CHANGE_TO_INCLUDE_MODE : CHANGE_TO_EXCLUDE_MODE;
    return [{ recordType, group, sources: after.sources }];
  }
  const added = after.sources.filter((s) => !before.sources.includes(s));
  const removed = before.sources.filter((s) => !after.sources.includes(s));
  // INCLUDE: new sources are allowed, old ones blocked; EXCLUDE lists the reverse.
  const [allow, block] = after.mode === 'include' ? [added, removed] : [removed, added];
  const records: GroupRecord<A>[] = [];
  if (allow.length > 0) records.push({ recordType: ALLOW_NEW_SOURCES, group, sources: allow });
  if (block.length > 0) records.push({ recordType: BLOCK_OLD_SOURCES, group, sources: block });
  return records;
}
