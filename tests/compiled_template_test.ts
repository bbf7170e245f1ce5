/**
 * The compiled templates render exactly what mustache.js 4.2 renders (escaping off): every
 * built-in template on several models, and templates written to hit each rule.
 */
import assert from "node:assert/strict";
import Mustache from "mustache";
import { compileTemplate } from "../lib/compiled_template.ts";
import { buildModel, render, templates } from "../mod.ts";
import { container, resetContainers } from "./support/fixtures.ts";

const config = { escape: (text: unknown) => String(text) };

function same(template: string, view: unknown, partials: Record<string, string> = {}): void {
  const expected = Mustache.render(template, view, partials, config);
  assert.equal(compileTemplate(template)(view, partials), expected, template);
}

Deno.test("compiled templates: the built-in templates on several models", () => {
  resetContainers();
  const models = [
    buildModel([]).model,
    buildModel([
      container("a", { "lbsync.service": "web", "lbsync.host": "a.test,*.b.test" }),
      container("b", { "lbsync.service": "web", "lbsync.weight": "3" }),
      container("c", { "lbsync.service": "api", "lbsync.path": "/api", "lbsync.health": "/h" }),
      container("d", { "lbsync.service": "db", "lbsync.mode": "tcp", "lbsync.listen": "5432" }),
      container("e", { "lbsync.service": "web", "lbsync.backup": "true" }),
    ], { haproxySocket: "/run/a.sock", listenAddress: "127.0.0.1" }).model,
  ];
  for (const model of models) {
    for (const text of Object.values(templates)) same(text, model);
  }
});

Deno.test("compiled templates: lookups, sections, inverted sections and partials as mustache.js", () => {
  const view = {
    name: "top",
    zero: 0,
    empty: "",
    none: null,
    yes: true,
    no: false,
    list: [{ name: "one", n: 1 }, { n: 2 }, { name: "three", inner: { deep: "d" } }],
    words: ["x", "y"],
    nested: { name: "inner", child: { value: "v", undef: undefined } },
    text: "100 yards",
    length: "L",
    obj: { toString: () => "custom" },
    numbers: [0, 1, 2],
    emptyList: [],
  };
  const cases = [
    "{{name}} {{&name}} {{{name}}} {{missing}}|{{zero}}|{{empty}}|{{none}}|{{yes}}|{{no}}",
    "{{#list}}[{{name}}:{{n}}]{{/list}}",
    "{{#list}}{{inner.deep}}{{^inner}}-{{/inner}}{{/list}}",
    "{{#words}}<{{.}}>{{/words}}",
    "{{#numbers}}{{.}},{{/numbers}}|{{#zero}}hidden{{/zero}}|{{^zero}}shown{{/zero}}",
    "{{#nested}}{{name}}/{{child.value}}/{{child.undef}}/{{nested.name}}{{/nested}}",
    "{{#nested.child}}{{value}} {{name}}{{/nested.child}}",
    "{{nested.child.value}} {{nested.missing.value}} {{text.length}} {{#text}}{{length}}{{/text}}",
    "{{^emptyList}}none{{/emptyList}}{{#emptyList}}some{{/emptyList}}{{^missing}}missing{{/missing}}",
    "{{#yes}}{{name}}{{/yes}}{{#no}}x{{/no}}{{^no}}not{{/no}}{{#empty}}x{{/empty}}",
    "{{obj}} {{#obj}}{{name}}{{/obj}} {{words}}",
    "{{! a comment }}a{{=<% %>=}}<% name %><%={{ }}=%>{{name}}",
    "line\n  {{#list}}\n  - {{n}}\n  {{/list}}\nend\n",
    "{{#list}}{{#inner}}{{deep}}{{name}}{{/inner}}{{/list}}",
    "begin\n  {{> item}}\nend {{> item}} {{> missing}}\n",
  ];
  const partials = { item: "<{{name}}>\n[{{#words}}{{.}}{{/words}}]\n" };
  for (const template of cases) same(template, view, partials);
});

Deno.test("compiled templates: views only mustache.js handles are rendered by it", () => {
  const view = { list: [null], fn: () => "lambda" } as unknown as Parameters<typeof render>[1];
  assert.equal(render("{{fn}}", view), "lambda");
  assert.throws(() => render("{{#list}}{{x}}{{/list}}", view), /Cannot render template/);
  assert.throws(() => compileTemplate("{{#open}}"), /Unclosed section/);
});

Deno.test("compiled templates: 500 random templates over random views render as mustache.js", () => {
  let seed = 7;
  const random = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
  const pick = <T>(items: T[]): T => items[Math.floor(random() * items.length)];
  const names = ["a", "b", "c", "list", "a.b", "list.length", "b.c.a", "."];
  const value = (depth: number): unknown => {
    const kind = pick(["str", "num", "bool", "obj", "arr", "undef"]);
    if (depth > 2 || kind === "str") return pick(["", "s", "t u"]);
    if (kind === "num") return pick([0, 1, 2.5]);
    if (kind === "bool") return random() < 0.5;
    if (kind === "undef") return undefined;
    if (kind === "arr") {
      return Array.from({ length: Math.floor(random() * 3) }, () => value(depth + 1));
    }
    return Object.fromEntries(
      ["a", "b", "c", "list"].filter(() => random() < 0.6).map((k) => [k, value(depth + 1)]),
    );
  };
  const template = (depth: number): string =>
    Array.from({ length: 1 + Math.floor(random() * 4) }, () => {
      const name = pick(names.filter((n) => n !== "." || depth > 0));
      const kind = depth > 2
        ? pick(["text", "var"])
        : pick(["text", "var", "raw", "section", "inverted"]);
      if (kind === "text") return pick(["x", " ", "\n", "-\n  "]);
      if (kind === "var") return `{{${name}}}`;
      if (kind === "raw") return `{{{${name}}}}`;
      const open = kind === "section" ? "#" : "^";
      const section = name === "." ? "a" : name;
      return `{{${open}${section}}}${template(depth + 1)}{{/${section}}}`;
    }).join("");
  for (let i = 0; i < 500; i++) {
    const view = { a: value(0), b: value(0), c: value(0), list: value(0) };
    const text = template(0);
    const outcome = (fn: () => string) => {
      try {
        return fn();
      } catch (error) {
        return `threw ${(error as Error).name}`;
      }
    };
    assert.equal(
      outcome(() => render(text, view as unknown as Parameters<typeof render>[1])),
      outcome(() => Mustache.render(text, view, {}, config)).replace(
        /^threw .*/,
        "threw ConfigError",
      ),
      `${text} with ${JSON.stringify(view)}`,
    );
  }
});
