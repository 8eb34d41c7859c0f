"use strict";
Object.defineProperty(exports, "__esModule", { value: true });
exports.requestTiming = requestTiming;
function requestTiming(metrics) {
    return (req, res, next) => {
        const started = process.hrtime.bigint();
        res.once('finish', () => metrics.observeRequest(req.path, res.statusCode, Number(process.hrtime.bigint() - started) / 1e9));
        next();
    };
}
//# sourceMappingURL=request-timing.js.map