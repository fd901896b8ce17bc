#!/usr/bin/env node
// Thin launcher: the compiled entry point owns argument parsing and exit codes.
import '../dist/src/main.js';
