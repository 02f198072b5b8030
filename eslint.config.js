// ESLint for the browser modules in static/js (served as they are, no build step) and the
// node unit tests in tests/js. `make test-js` runs it (or `npx eslint .` once `npm ci` ran).
import js from "@eslint/js";
import globals from "globals";

// Server data (case text, labels, answers) is untrusted: it reaches the page through
// textContent and setAttribute (dom.js), never as markup. These are the ways in for markup.
const NO_MARKUP = [
  {
    selector: "AssignmentExpression > MemberExpression.left[property.name=/^(innerHTML|outerHTML)$/]",
    message: "Server strings must not become markup: build nodes with h() and set text with textContent.",
  },
  {
    selector: "CallExpression[callee.property.name=/^(insertAdjacentHTML|setHTMLUnsafe|createContextualFragment)$/]",
    message: "Server strings must not become markup: build nodes with h() and set text with textContent.",
  },
  {
    selector: "CallExpression[callee.object.name='document'][callee.property.name=/^write(ln)?$/]",
    message: "document.write parses markup; build nodes with h() instead.",
  },
];

export default [
  {
    ignores: ["node_modules/", "staticfiles/", ".venv/"],
  },
  js.configs.recommended,
  {
    linterOptions: { reportUnusedDisableDirectives: "error" },
    rules: {
      eqeqeq: ["error", "always"],
      "no-eval": "error",
      "no-implied-eval": "error",
      "no-new-func": "error",
      "no-script-url": "error",
      "no-shadow": "error",
      // A const, let or class read before its line (not from a function called later) throws.
      "no-use-before-define": ["error", { functions: false, classes: false, variables: false }],
      "no-var": "error",
      "prefer-const": "error",
      radix: "error",
    },
  },
  {
    files: ["static/js/**/*.js"],
    languageOptions: { ecmaVersion: 2022, sourceType: "module", globals: globals.browser },
    rules: {
      "no-implicit-globals": "error",
      "no-restricted-syntax": ["error", ...NO_MARKUP],
    },
  },
  {
    files: ["tests/js/**/*.js", "eslint.config.js"],
    languageOptions: { ecmaVersion: 2022, sourceType: "module", globals: globals.node },
  },
  {
    files: ["tests/js/**/*.js"],
    // The tests hand javascript: URLs to the link code to check that they are refused.
    rules: { "no-script-url": "off" },
  },
];
