"use strict";
Object.defineProperty(exports, "__esModule", { value: true });
exports.DEFAULTS = void 0;
exports.DEFAULTS = {
    access_token_lifetime: 3600,
    auth_code_lifetime: 300,
    refresh_token_idle_lifetime: 400 * 24 * 3600,
    refresh_token_grace_generations: 10,
    refresh_token_grace_period: 14 * 24 * 3600,
    log_level: 'info',
    notifications: true,
};
//# sourceMappingURL=config.js.map