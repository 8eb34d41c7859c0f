"use strict";
Object.defineProperty(exports, "__esModule", { value: true });
exports.text = text;
/**
 * A value of unknown type as text: strings as they are; numbers, booleans, bigints, arrays and objects with a
 * toString of their own (Error, Date, URL, SafeHtml) as String() shows them; null and undefined as ''; plain
 * objects as JSON instead of "[object Object]".
 */
function text(value) {
    switch (typeof value) {
        case 'string':
            return value;
        case 'number':
        case 'boolean':
        case 'bigint':
            return value.toString();
        case 'undefined':
            return '';
        case 'symbol':
            return value.toString();
        case 'function':
            return `[function ${value.name || 'anonymous'}]`;
    }
    if (value === null)
        return '';
    if (Array.isArray(value))
        return value.map(text).join(',');
    const toString = value.toString;
    if (typeof toString === 'function' && toString !== Object.prototype.toString)
        return toString.call(value);
    try {
        return JSON.stringify(value) ?? '';
    }
    catch {
        return '[object]';
    }
}
//# sourceMappingURL=text.js.map