"use strict";
var __importDefault = (this && this.__importDefault) || function (mod) {
    return (mod && mod.__esModule) ? mod : { "default": mod };
};
Object.defineProperty(exports, "__esModule", { value: true });
exports.createLogger = createLogger;
/**
 * The add-on log: one human-readable line per event on stdout (what the Home Assistant Log tab shows),
 * with key=value context. Secrets are redacted by format, whatever the caller passed; and every line stays one
 * line: the message and each value go through untrusted() (control characters escaped, length capped), so
 * request data that reached a message cannot forge a line or drive the terminal of someone reading the log.
 */
const winston_1 = __importDefault(require("winston"));
const options_schema_1 = require("../config/options-schema");
const tokens_1 = require("../crypto/tokens");
const redact_1 = require("./redact");
const untrusted_1 = require("./untrusted");
const text_1 = require("./text");
/** Caps of the backstop: the callers cap request data far lower; these only bound a line whatever happens. */
const MESSAGE_MAX = 4096;
const VALUE_MAX = 4096;
const redactFormat = winston_1.default.format((info) => {
    for (const key of Object.keys(info)) {
        if (key === 'level' || key === 'message')
            continue;
        const value = info[key];
        info[key] = (0, redact_1.isSecretKey)(key) && typeof value === 'string' ? (0, tokens_1.fingerprint)(value) : (0, redact_1.redact)(value);
    }
    return info;
});
const untrustedFormat = winston_1.default.format((info) => {
    info.message = (0, untrusted_1.untrusted)(info.message, MESSAGE_MAX);
    for (const key of Object.keys(info)) {
        if (key === 'level' || key === 'message')
            continue;
        info[key] = (0, untrusted_1.untrustedTree)(info[key], VALUE_MAX);
    }
    return info;
});
function formatValue(v) {
    // Strings arrive escaped (untrustedFormat): quoting is for reading only, JSON.stringify would double every \.
    if (typeof v === 'string')
        return /[\s"=]/.test(v) || v === '' ? `"${v.replace(/"/g, '\\"')}"` : v;
    return JSON.stringify(v);
}
const lineFormat = winston_1.default.format.printf((info) => {
    const { level, message, timestamp, ...rest } = info;
    const context = Object.entries(rest)
        .filter(([k, v]) => typeof k === 'string' && v !== undefined)
        .map(([k, v]) => `${k}=${formatValue(v)}`)
        .join(' ');
    return `${(0, text_1.text)(timestamp)} ${(0, text_1.text)(level).toUpperCase().padEnd(5)} ${(0, text_1.text)(message)}${context ? ` ${context}` : ''}`;
});
function createLogger(level, silent = false) {
    const logger = winston_1.default.createLogger({
        level,
        silent,
        format: winston_1.default.format.combine(redactFormat(), untrustedFormat(), winston_1.default.format.timestamp(), lineFormat),
        transports: [new winston_1.default.transports.Console()],
    });
    // winston runs the whole format chain (redaction, escaping, the line) before its transport drops a message below
    // the level, so a debug line at level info cost as much as a written one: the level is checked first.
    // `this` is passed on, so a child logger (Object.create of this one) still writes with its own metadata.
    for (const name of options_schema_1.LOG_LEVELS) {
        const write = logger[name];
        logger[name] = function (...args) {
            return logger.isLevelEnabled(name) ? write.apply(this, args) : (this ?? logger);
        };
    }
    return logger;
}
//# sourceMappingURL=logger.js.map