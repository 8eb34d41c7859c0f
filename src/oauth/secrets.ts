/** Moved to crypto/tokens.ts (the bottom layer); this re-export goes once no module imports it from here. */
export * from '../crypto/tokens';
