/**
 * Parsers never throw on bad input: they return either the parsed value or a typed error naming what was
 * wrong, so the layer above can count the drop under a precise reason.
 */

export type WireErrorKind =
  | 'truncated' // fewer bytes than the header or a length field needs
  | 'bad-header-length' // IHL < 5, TCP data offset < 5, or a header length past the packet
  | 'bad-total-length' // a total/length field larger than the frame, or smaller than the header
  | 'bad-option' // option length 0 or 1, or running past the end of the header
  | 'bad-checksum'
  | 'bad-version'
  | 'unsupported' // well-formed but not something this stack speaks (e.g. ARP for another protocol)
  | 'bad-field'; // a field with a value the RFC forbids

export interface WireError {
  readonly kind: WireErrorKind;
  /** Which protocol rejected the bytes, e.g. 'ipv4'. */
  readonly protocol: string;
  readonly message: string;
}

export type ParseResult<T> =
  | { readonly ok: true; readonly value: T }
  | { readonly ok: false; readonly error: WireError };

export function parsed<T>(value: T): ParseResult<T> {
  return { ok: true, value };
}

export function malformed<T>(protocol: string, kind: WireErrorKind, message: string): ParseResult<T> {
  return { ok: false, error: { kind, protocol, message } };
}
