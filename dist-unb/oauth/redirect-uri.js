"use strict";
/** Exact redirect URI matching (RFC 9700 §4.1.3) and, on a mismatch, the registered URI the operator probably meant. */
Object.defineProperty(exports, "__esModule", { value: true });
exports.isRegisteredRedirectUri = isRegisteredRedirectUri;
exports.closestRedirectUri = closestRedirectUri;
function editDistance(a, b) {
    const row = Array.from({ length: b.length + 1 }, (_, j) => j);
    for (let i = 1; i <= a.length; i++) {
        let diagonal = i - 1; // row[0] before this pass
        let left = i; // row[j - 1] of this pass
        row[0] = i;
        for (let j = 1; j <= b.length; j++) {
            const above = row[j] ?? 0;
            left = Math.min(above + 1, left + 1, diagonal + (a[i - 1] === b[j - 1] ? 0 : 1));
            row[j] = left;
            diagonal = above;
        }
    }
    return row[b.length] ?? 0;
}
function isRegisteredRedirectUri(uri, registered) {
    return registered.includes(uri); // byte-for-byte: no normalisation, no prefix or wildcard matching
}
function closestRedirectUri(uri, registered) {
    let best;
    for (const candidate of registered) {
        const distance = editDistance(uri.slice(0, 512), candidate.slice(0, 512));
        if (!best || distance < best.distance)
            best = { uri: candidate, distance };
    }
    return best?.uri;
}
//# sourceMappingURL=redirect-uri.js.map