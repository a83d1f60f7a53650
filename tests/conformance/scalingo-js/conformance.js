// Drives linkpilot simulate-scalingo with Scalingo's own JavaScript client, unchanged.
// Starts nothing: the simulator's base URL comes from LINKPILOT_SIM_URL and the API token it
// accepts (--token) from LINKPILOT_SIM_TOKEN. Exits 0 when every check passes.
"use strict";

const assert = require("node:assert/strict");
const { clientFromToken } = require("scalingo");

const url = process.env.LINKPILOT_SIM_URL;
const token = process.env.LINKPILOT_SIM_TOKEN || "tk-conformance";
if (!url) {
  console.error("LINKPILOT_SIM_URL is not set");
  process.exit(2);
}
const opts = { apiUrl: url, authApiUrl: url };

async function expectApiError(promise, status, what) {
  try {
    await promise;
  } catch (err) {
    assert.equal(err.status, status, `${what}: status ${err.status}`);
    return err;
  }
  assert.fail(`${what}: expected an APIError ${status}`);
}

async function main() {
  await expectApiError(clientFromToken("not-the-token", opts), 401, "exchange, wrong token");

  const client = await clientFromToken(token, opts);
  assert.equal(typeof client._token, "string");
  assert.equal(client._token.split(".").length, 3, "a JWT");

  const app = await client.Apps.create({ name: "conf-app" });
  assert.equal(app.name, "conf-app");
  assert.ok(app.id);

  const link = await client.SCMRepoLinks.create("conf-app", {
    source: "https://github.com/acme/shop",
    branch: "main",
  });
  assert.equal(link.owner, "acme");
  assert.equal(link.repo, "shop");
  assert.equal(link.branch, "main");
  assert.equal(link.app_id, app.id);

  const found = await client.SCMRepoLinks.find("conf-app");
  assert.equal(found.id, link.id);

  const deployment = await client.SCMRepoLinks.manualDeploy("conf-app", "main");
  assert.equal(deployment.git_ref, "main");
  assert.equal(deployment.app_id, app.id);

  const ra = await client.SCMRepoLinks.manualReviewApp("conf-app", 12);
  assert.equal(ra.app_name, "conf-app-pr12");
  assert.equal(ra.parent_app_name, "conf-app");
  assert.equal(ra.pull_request.number, 12);
  assert.equal(ra.stale_deletion_date, "0001-01-01T00:00:00Z");
  const ra2 = await client.SCMRepoLinks.manualReviewApp("conf-app", "13");
  assert.equal(ra2.app_name, "conf-app-pr13");

  const reviewApps = await client.SCMRepoLinks.reviewApps("conf-app");
  assert.deepEqual(reviewApps.map((r) => r.app_name).sort(), ["conf-app-pr12", "conf-app-pr13"]);

  const pulls = await client.SCMRepoLinks.pulls("conf-app");
  assert.ok(Array.isArray(pulls));

  const wrong = await expectApiError(
    client.Apps.destroy("conf-app-pr12", "conf-app"),
    422,
    "destroy with a wrong current_name",
  );
  assert.ok(wrong.data.errors, "422 carries errors");

  await client.Apps.destroy("conf-app-pr12", "conf-app-pr12");
  const after = await client.SCMRepoLinks.reviewApps("conf-app");
  assert.deepEqual(after.map((r) => r.app_name), ["conf-app-pr13"]);

  const missing = await expectApiError(client.SCMRepoLinks.find("ghost-app"), 404, "unknown app");
  assert.equal(missing.data.resource, "app");
  assert.equal(missing.data.error, "not found");
  assert.equal(missing.message, "not found");

  console.log("scalingo-js conformance: all checks passed");
}

main().catch((err) => {
  console.error("scalingo-js conformance FAILED:", err && err.stack ? err.stack : err);
  process.exit(1);
});
