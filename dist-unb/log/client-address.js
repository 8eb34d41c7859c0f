"use strict";
Object.defineProperty(exports, "__esModule", { value: true });
exports.unmapIPv4 = unmapIPv4;
exports.addressBucket = addressBucket;
/**
 * A client's address as people and rate limits should see it. On a dual-stack listener (HOST=::) every IPv4
 * client arrives as an IPv4-mapped IPv6 address (::ffff:203.0.113.7); treated as IPv6 and masked to a /56, all of
 * IPv4 would share one rate-limit bucket. Unmapped, each IPv4 client is itself again.
 */
const node_net_1 = require("node:net");
/** ::ffff:a.b.c.d (any spelling, e.g. ::FFFF:7f00:1 or 0:0:0:0:0:ffff:a.b.c.d) -> a.b.c.d; anything else unchanged. */
function unmapIPv4(address) {
    if (address.length > 64 || (0, node_net_1.isIP)(address) !== 6 || !/ffff/i.test(address))
        return address;
    let canonical;
    try {
        canonical = new URL(`http://[${address}]/`).hostname; // WHATWG serialises IPv6 canonically: [::ffff:cb00:7107]
    }
    catch {
        return address;
    }
    const [, hiHex, loHex] = /^\[::ffff:([0-9a-f]{1,4}):([0-9a-f]{1,4})\]$/.exec(canonical) ?? [];
    if (hiHex === undefined || loHex === undefined)
        return address;
    const hi = parseInt(hiHex, 16);
    const lo = parseInt(loHex, 16);
    const v4 = `${hi >> 8}.${hi & 255}.${lo >> 8}.${lo & 255}`;
    return (0, node_net_1.isIPv4)(v4) ? v4 : address;
}
/**
 * The bucket a client's failures are counted in: the IPv4 address, or the /56 an IPv6 client's provider
 * typically delegates (one household or server can rotate through all of it at no cost).
 */
function addressBucket(address) {
    const ip = unmapIPv4(address);
    if ((0, node_net_1.isIP)(ip) !== 6)
        return ip;
    let canonical;
    try {
        canonical = new URL(`http://[${ip}]/`).hostname.slice(1, -1);
    }
    catch {
        return ip;
    }
    const [head, tail = ''] = canonical.split('::');
    const left = head ? head.split(':') : [];
    const right = tail ? tail.split(':') : [];
    const groups = canonical.includes('::') ? [...left, ...Array(8 - left.length - right.length).fill('0'), ...right] : left;
    const [g0 = 0, g1 = 0, g2 = 0, g3 = 0] = groups.map((x) => parseInt(x, 16));
    return `${g0.toString(16)}:${g1.toString(16)}:${g2.toString(16)}:${(g3 & 0xff00).toString(16)}::/56`;
}
//# sourceMappingURL=client-address.js.map