"use strict";
Object.defineProperty(exports, "__esModule", { value: true });
//# sourceMappingURL=user-authenticator.js.map