/**
 * File names that tools pick up by themselves when they appear in a folder.
 *
 * A download lands in the workspace, and many tools load a file from the workspace root
 * without being asked: npm reads `.npmrc`, dotenv reads `.env`, ESLint imports
 * `eslint.config.mjs`, pytest imports `conftest.py`, make runs `Makefile`. A server that can
 * name the download (Content-Disposition, or the last segment of a redirect target) could
 * otherwise plant code that runs the next time the user types `npm test`. So a name the
 * server chose never becomes a dotfile or one of these names; a name the user typed is
 * always taken as is.
 *
 * This is the one list. Matching ignores case: macOS and Windows file systems do too.
 */

/** Exact names, lower-cased. Grouped by the tool that loads them. */
const AUTO_LOADED_EXACT = new Set(
  [
    // Node.js and package managers: install scripts, registry credentials, module resolution.
    'package.json', 'package-lock.json', 'npm-shrinkwrap.json', 'pnpm-workspace.yaml', 'pnpmfile.cjs',
    'yarn.lock', 'bunfig.toml', 'deno.json', 'deno.jsonc', 'tsconfig.json', 'jsconfig.json',
    'gulpfile.js', 'gruntfile.js', 'karma.conf.js', 'nodemon.json',
    // Python: imported by pytest / the interpreter, or run by build front ends.
    'conftest.py', 'setup.py', 'setup.cfg', 'pyproject.toml', 'tox.ini', 'pytest.ini', 'noxfile.py',
    'sitecustomize.py', 'usercustomize.py', 'manage.py', 'requirements.txt', 'pipfile',
    // Build systems and task runners.
    'makefile', 'gnumakefile', 'cmakelists.txt', 'build.gradle', 'build.gradle.kts', 'settings.gradle',
    'settings.gradle.kts', 'gradlew', 'pom.xml', 'build.xml', 'rakefile', 'gemfile', 'cargo.toml',
    'build.rs', 'go.mod', 'go.work', 'justfile', 'taskfile.yml', 'taskfile.yaml', 'meson.build',
    'build.zig', 'composer.json', 'directory.build.props', 'directory.build.targets',
    'directory.packages.props', 'global.json', 'nuget.config',
    // Containers and dev environments that start processes from the folder.
    'dockerfile', 'docker-compose.yml', 'docker-compose.yaml', 'compose.yml', 'compose.yaml',
    'vagrantfile', 'procfile', 'flake.nix', 'shell.nix', 'default.nix', 'devcontainer.json',
    // Windows Explorer reads these when it shows the folder.
    'desktop.ini', 'autorun.inf',
  ],
);

/**
 * `<tool>.config.<js/ts/json extension>` files, which JavaScript tools import (and so run) on
 * start: eslint, prettier, vite, vitest, jest, webpack, rollup, babel, postcss, tailwind, next,
 * nuxt, svelte, astro, playwright, stylelint, commitlint, lint-staged, and the like. No tool's
 * config name starts with `_`, which is what makes the prefix below a safe rename.
 */
const TOOL_CONFIG = /^[a-z0-9@-][a-z0-9@_-]*(?:\.[a-z0-9_-]+)*\.config\.(?:[cm]?[jt]s|json|ya?ml|toml)$/i;

/** True when a tool would load a file of this name by itself, or it is a dotfile. */
export function isAutoLoadedName(name: string): boolean {
  if (name.startsWith('.')) return true;
  const lower = name.toLowerCase();
  return AUTO_LOADED_EXACT.has(lower) || TOOL_CONFIG.test(name);
}

/**
 * The name to use for a file whose name the server chose: unchanged unless a tool would load
 * it, else prefixed with `_` (`.npmrc` → `_.npmrc`, `conftest.py` → `_conftest.py`), which no
 * tool looks for and which still tells the user what the file was called.
 */
export function neutralizeServerName(name: string): string {
  return isAutoLoadedName(name) ? `_${name}` : name;
}
