/**
 * Which addresses the backend may call on a tenant's say-so (a WAHA server's base URL): never
 * this machine, the private network or the cloud's metadata service (SSRF). Checked when a
 * channel is saved and again before every call.
 *
 * Refused: schemes other than http and https; loopback, private (RFC 1918), carrier-grade NAT,
 * link-local (with 169.254.169.254, the metadata service), multicast, unspecified, reserved and
 * documentation addresses, IPv4 and IPv6 (unique local, link-local, IPv4-mapped and NAT64 forms
 * included); `localhost`, names under .localhost, .local, .internal, .home.arpa, and single-label
 * names (resolved through the deployment's search domains).
 *
 * Residual risk: Convex's default runtime cannot resolve DNS, so a public name whose DNS record
 * points at a private address is not caught here. Redirects are never followed (callProvider
 * asks fetch for `redirect: "manual"`), so a public server cannot bounce a call inward. The
 * embedded default (local stack and tests) allows private targets with
 * ALLOW_PRIVATE_PROVIDER_URLS=true, because its simulator runs on 127.0.0.1.
 */

const BLOCKED_NAMES = [/^localhost$/, /\.localhost$/, /\.local$/, /\.internal$/, /\.home\.arpa$/];

function ipv4(host: string): number[] | null {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(host);
  if (!m) return null;
  const parts = m.slice(1).map(Number);
  return parts.every((p) => p <= 255) ? parts : null;
}

function privateIpv4([a, b, c]: number[]): string | null {
  if (a === 0) return "an unspecified address";
  if (a === 10 || (a === 172 && b >= 16 && b <= 31) || (a === 192 && b === 168)) return "a private address";
  if (a === 100 && b >= 64 && b <= 127) return "a carrier-grade NAT address";
  if (a === 127) return "a loopback address";
  if (a === 169 && b === 254) return "a link-local address (and the cloud metadata service)";
  if (a === 192 && b === 0 && (c === 0 || c === 2)) return "a reserved address";
  if (a === 198 && (b === 18 || b === 19)) return "a benchmarking address";
  if ((a === 198 && b === 51 && c === 100) || (a === 203 && b === 0 && c === 113)) {
    return "a documentation address";
  }
  if (a >= 224 && a <= 239) return "a multicast address";
  if (a >= 240) return "a reserved address";
  return null;
}

/** Eight 16-bit groups of an IPv6 literal (as the URL parser writes it, without brackets). */
function ipv6Groups(host: string): number[] | null {
  if (!host.includes(":")) return null;
  let text = host;
  // A trailing dotted IPv4 (the URL parser rewrites these, but be safe).
  const v4 = /(\d+\.\d+\.\d+\.\d+)$/.exec(text);
  if (v4) {
    const parts = ipv4(v4[1]);
    if (!parts) return null;
    text =
      text.slice(0, -v4[1].length) +
      `${((parts[0] << 8) | parts[1]).toString(16)}:${((parts[2] << 8) | parts[3]).toString(16)}`;
  }
  const [head, tail, extra] = text.split("::");
  if (extra !== undefined) return null;
  const groups = (s: string) => (s ? s.split(":").map((g) => parseInt(g, 16)) : []);
  const left = groups(head);
  const right = tail === undefined ? [] : groups(tail);
  const missing = 8 - left.length - right.length;
  if (tail === undefined ? missing !== 0 : missing < 0) return null;
  const all = [...left, ...Array<number>(Math.max(0, missing)).fill(0), ...right];
  return all.length === 8 && all.every((g) => Number.isInteger(g) && g >= 0 && g <= 0xffff) ? all : null;
}

function privateIpv6(g: number[]): string | null {
  if (g.every((x) => x === 0)) return "an unspecified address";
  if (g.slice(0, 7).every((x) => x === 0) && g[7] === 1) return "a loopback address";
  const embedded = [g[6] >> 8, g[6] & 0xff, g[7] >> 8, g[7] & 0xff];
  // ::ffff:a.b.c.d (IPv4-mapped), ::a.b.c.d (IPv4-compatible) and 64:ff9b::a.b.c.d (NAT64).
  if (
    (g.slice(0, 5).every((x) => x === 0) && (g[5] === 0xffff || g[5] === 0)) ||
    (g[0] === 0x64 && g[1] === 0xff9b && g.slice(2, 6).every((x) => x === 0))
  ) {
    return privateIpv4(embedded);
  }
  if ((g[0] & 0xfe00) === 0xfc00) return "a unique local (private) address";
  if ((g[0] & 0xffc0) === 0xfe80) return "a link-local address";
  if ((g[0] & 0xff00) === 0xff00) return "a multicast address";
  if (g[0] === 0x2001 && g[1] === 0x0db8) return "a documentation address";
  return null;
}

/**
 * Why the backend must not call `url`, or null when it may. `allowPrivate` lifts the address
 * rules (never the scheme rule) for the embedded default.
 */
export function refusedTarget(url: string, options: { allowPrivate: boolean }): string | null {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return "it is not a valid address";
  }
  if (parsed.protocol !== "http:" && parsed.protocol !== "https:") return "only http and https are allowed";
  if (options.allowPrivate) return null;
  const host = parsed.hostname
    .toLowerCase()
    .replace(/^\[|\]$/g, "")
    .replace(/\.$/, "");
  const v4 = ipv4(host);
  if (v4) return privateIpv4(v4);
  const v6 = ipv6Groups(host);
  if (v6) return privateIpv6(v6);
  if (host.includes(":")) return "it is not a valid address";
  if (BLOCKED_NAMES.some((re) => re.test(host))) return "it names this machine or a private network";
  if (!host.includes(".")) return "a single-word name can only be on a private network";
  return null;
}
