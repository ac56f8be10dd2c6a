/**
 * net.isIP / isIPv4 / isIPv6 with Node's rules: IPv4 in dotted-quad form without leading zeros; IPv6 in
 * any RFC 4291 §2.2 text form (with "::", an embedded IPv4 tail, and an optional %zone).
 */

const IPV4_OCTET = '(?:25[0-5]|2[0-4]\\d|1\\d\\d|[1-9]\\d|\\d)';
const IPV4 = new RegExp(`^(?:${IPV4_OCTET}\\.){3}${IPV4_OCTET}$`);
const HEX_GROUP = /^[0-9a-fA-F]{1,4}$/;
/** A zone (scope) id: an interface name or index — letters, digits, '-', '.' and ':' only, as Node's. */
const ZONE = /^[0-9a-zA-Z\-.:]+$/;

// Node tests the argument's string form (`${input}`): 123 is '123', an object its toString().
export function isIPv4(input: unknown): boolean {
  return IPV4.test(`${input}`);
}

export function isIPv6(input: unknown): boolean {
  let text = `${input}`;
  const zone = text.indexOf('%');
  if (zone >= 0) {
    if (!ZONE.test(text.slice(zone + 1))) return false;
    text = text.slice(0, zone);
  }
  // An IPv4 tail stands for the last two groups.
  let groupsNeeded = 8;
  const lastColon = text.lastIndexOf(':');
  if (lastColon >= 0 && text.slice(lastColon + 1).includes('.')) {
    if (!isIPv4(text.slice(lastColon + 1))) return false;
    text = `${text.slice(0, lastColon + 1)}0`;
    groupsNeeded = 7;
  }
  const halves = text.split('::');
  if (halves.length > 2) return false;
  const groups = (half: string): string[] | undefined => {
    if (half === '') return [];
    const parts = half.split(':');
    return parts.every((part) => HEX_GROUP.test(part)) ? parts : undefined;
  };
  if (halves.length === 1) {
    const all = groups(halves[0]!);
    return all !== undefined && all.length === groupsNeeded;
  }
  const head = groups(halves[0]!);
  const tail = groups(halves[1]!);
  if (head === undefined || tail === undefined) return false;
  // "::" stands for at least one group of zeros.
  return head.length + tail.length <= groupsNeeded - 1;
}

/** 4 for IPv4, 6 for IPv6, 0 otherwise. */
export function isIP(input: unknown): 0 | 4 | 6 {
  if (isIPv4(input)) return 4;
  if (isIPv6(input)) return 6;
  return 0;
}
