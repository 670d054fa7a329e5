// The workstation's static files without a browser: every module parses,
// the GResource manifest lists exactly the files there are, the rules of
// the strict Content-Security-Policy and of XSS safety hold in the source
// (no inline script or style, no markup built from strings, nothing loaded
// from another site), and dom.js matches words as the archive's full-text
// index does (SQLite unicode61, remove_diacritics 2).
// Run by meson as `web-static`: node test-static.mjs STATIC_DIR.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { readFileSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { pathToFileURL } from "node:url";

const dir = process.argv[2];
assert.ok(dir, "usage: test-static.mjs STATIC_DIR");
let checks = 0;
const check = (name, fn) => {
  try {
    fn();
    checks++;
  } catch (e) {
    console.error(`FAIL ${name}: ${e.message}`);
    process.exitCode = 1;
  }
};

const files = readdirSync(dir).filter((f) => !f.endsWith(".gresource.xml")).sort();
const manifest = readFileSync(join(dir, "chartdesk-web.gresource.xml"), "utf8");
const listed = [...manifest.matchAll(/<file[^>]*>([^<]+)<\/file>/g)].map((m) => m[1]).sort();

check("manifest lists every file", () => assert.deepEqual(listed, files));

for (const f of files.filter((x) => x.endsWith(".js"))) {
  const src = readFileSync(join(dir, f), "utf8");
  check(`${f} parses as a module`, () => {
    const r = spawnSync(process.execPath, ["--input-type=module", "--check"], { input: src, encoding: "utf8" });
    assert.equal(r.status, 0, r.stderr);
  });
  check(`${f} builds no markup from strings`, () => {
    const code = src.replace(/\/\/.*$/gm, "").replace(/\/\*[\s\S]*?\*\//g, "");
    for (const bad of ["innerHTML", "outerHTML", "insertAdjacentHTML", "document.write", "eval(", "new Function",
                       "setAttribute(\"style\"", "setAttribute('style'"])
      assert.ok(!code.includes(bad), `uses ${bad}`);
  });
  check(`${f} imports only from /static/`, () => {
    for (const m of src.matchAll(/^import .* from "([^"]+)";$/gm))
      assert.match(m[1], /^\/static\/[a-z-]+\.js$/, `imports ${m[1]}`);
  });
}

for (const f of files) {
  const src = readFileSync(join(dir, f), "utf8");
  check(`${f} loads nothing from another site`, () => {
    assert.ok(!/(src|href)\s*=\s*["']?(https?:)?\/\//i.test(src), "an absolute URL in src/href");
    assert.ok(!/@import|url\(\s*["']?(https?:)?\/\//i.test(src), "a CSS import or remote url()");
  });
}

check("index.html has no inline script or style", () => {
  const html = readFileSync(join(dir, "index.html"), "utf8");
  assert.ok(!/<style/i.test(html), "a <style> element");
  assert.ok(!/\sstyle\s*=/i.test(html), "a style attribute");
  assert.ok(!/\son[a-z]+\s*=/i.test(html), "an inline event handler");
  for (const m of html.matchAll(/<script([^>]*)>([\s\S]*?)<\/script>/gi)) {
    assert.match(m[1], /\ssrc="\/static\/[a-z-]+\.js"/, "a script without src");
    assert.equal(m[2].trim(), "", "a script with inline code");
  }
});

const dom = await import(pathToFileURL(join(dir, "dom.js")).href);
check("tokens as unicode61 with remove_diacritics 2", () => {
  assert.deepEqual(dom.tokens("Pneumonia,"), ["pneumonia"]);
  assert.deepEqual(dom.tokens("O'Brien"), ["o", "brien"]);
  assert.deepEqual(dom.tokens("Naïve CAFÉ"), ["naive", "cafe"]);
  assert.deepEqual(dom.tokens("03/14/1952"), ["03", "14", "1952"]);
});
check("terms match whole words and prefixes", () => {
  const m = dom.termMatcher(["pneumonia", "cardio*"]);
  assert.ok(m("pneumonia."));
  assert.ok(m("PNEUMONIA"));
  assert.ok(!m("pneumonias"));
  assert.ok(m("Cardiology"));
  assert.ok(!m("cardi"));
  assert.ok(!dom.termMatcher([])("anything"));
});
check("routes leave empty parameters out and encode the rest", () => {
  assert.equal(dom.route("find", { q: "chest pain", mrn: "", type: null }), "#/find?q=chest+pain");
  assert.equal(dom.route("audit", {}), "#/audit");
});
check("ages read as people say them", () => {
  assert.equal(dom.formatAge(42), "42 s");
  assert.equal(dom.formatAge(600), "10 min");
  assert.equal(dom.formatAge(3 * 3600 + 300), "3 h 5 min");
  assert.equal(dom.formatAge(5 * 86400), "5 days");
});

if (!process.exitCode)
  console.log(`${checks} checks passed`);
