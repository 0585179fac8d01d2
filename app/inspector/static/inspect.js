// memlane inspector: the user's graph (cytoscape), a timeline of changes, and provenance.
// All data comes from the JSON API; every piece of user text is inserted as text, never HTML.
(function () {
  "use strict";

  const userId = decodeURIComponent(location.pathname.replace(/^\/inspect\//, "").replace(/\/$/, ""));
  const base = "/users/" + encodeURIComponent(userId);
  const KEY = "memlane.apiKey";
  // Filters go to the server (/graph pages and caps a large graph); only the view is drawn.
  const state = { cy: null, asOf: null, ready: false, filter: { q: "", predicate: "", entity: "", limit: "120" } };
  window.memlaneInspector = state;

  const $ = (id) => document.getElementById(id);

  function el(tag, attrs, ...children) {
    const node = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (k === "class") node.className = v;
      else if (k.startsWith("on")) node.addEventListener(k.slice(2), v);
      else node.setAttribute(k, v);
    }
    for (const child of children) {
      if (child === null || child === undefined) continue;
      node.append(child instanceof Node ? child : document.createTextNode(String(child)));
    }
    return node;
  }

  function showError(message) {
    const box = $("error");
    box.textContent = message;
    box.hidden = false;
  }

  async function api(path) {
    for (let attempt = 0; attempt < 2; attempt++) {
      const headers = {};
      const key = sessionStorage.getItem(KEY);
      if (key) headers["X-API-Key"] = key;
      const res = await fetch(base + path, { headers });
      if (res.status === 401 && attempt === 0) {
        const entered = prompt("This memlane server needs an API key:");
        if (!entered) break;
        sessionStorage.setItem(KEY, entered);
        continue;
      }
      const body = await res.json().catch(() => ({}));
      if (!res.ok) throw new Error((body.code || res.status) + ": " + (body.message || res.statusText));
      return body;
    }
    throw new Error("unauthorised");
  }

  const day = (iso) => (iso ? iso.slice(0, 10) : "…");
  const when = (iso) => (iso ? iso.replace("T", " ").replace(/:\d\d(\.\d+)?Z$/, "Z") : "");

  function elements(graph) {
    const nodes = graph.entities.map((e) => ({
      group: "nodes",
      data: { id: "e:" + e.id, label: e.name, kind: e.kind },
      classes: e.kind === "self" || e.id === "self" ? "entity self" : "entity",
    }));
    const edges = [];
    for (const f of graph.facts) {
      let target = f.object_id ? "e:" + f.object_id : null;
      if (!target) {
        // A literal value is drawn as its own small node, one per fact.
        target = "v:" + f.id;
        nodes.push({ group: "nodes", data: { id: target, label: f.object || "", kind: "value" }, classes: "value" });
      }
      edges.push({
        group: "edges",
        data: { id: "f:" + f.id, factId: f.id, source: "e:" + f.subject_id, target, label: f.predicate, kind: f.kind },
        classes: f.polarity === "negative" ? "negative" : "",
      });
    }
    // Facts may point at an entity the graph view did not include (deleted since): keep edges drawable.
    const known = new Set(nodes.map((n) => n.data.id));
    for (const e of edges) {
      for (const end of [e.data.source, e.data.target]) {
        if (!known.has(end)) {
          known.add(end);
          nodes.push({ group: "nodes", data: { id: end, label: end.slice(2), kind: "other" }, classes: "entity" });
        }
      }
    }
    // Start every node on a circle (in a stable order) so the force layout is deterministic:
    // from coincident starting points cose separates nodes at random, and the same graph
    // would be drawn differently on every load. A bigger graph gets a bigger circle.
    const radius = Math.max(300, nodes.length * 6);
    nodes.forEach((n, i) => {
      const angle = (2 * Math.PI * i) / nodes.length;
      n.position = { x: radius * Math.cos(angle), y: radius * Math.sin(angle) };
    });
    return nodes.concat(edges);
  }

  const style = [
    { selector: "node", style: { label: "data(label)", "font-size": 11, "text-valign": "bottom", "text-margin-y": 4,
      "background-color": "#60a5fa", width: 26, height: 26, color: "#1d2430" } },
    { selector: "node.self", style: { "background-color": "#f59e0b", width: 38, height: 38, "font-weight": "bold" } },
    { selector: "node[kind = 'person']", style: { "background-color": "#34d399" } },
    { selector: "node[kind = 'place']", style: { "background-color": "#a78bfa" } },
    { selector: "node[kind = 'org']", style: { "background-color": "#f472b6" } },
    { selector: "node.value", style: { shape: "round-rectangle", "background-color": "#e5e7eb", width: 16, height: 16 } },
    { selector: "edge", style: { label: "data(label)", "font-size": 9, width: 2, "line-color": "#94a3b8",
      "target-arrow-color": "#94a3b8", "target-arrow-shape": "triangle", "curve-style": "bezier",
      "text-rotation": "autorotate", "text-background-color": "#fff", "text-background-opacity": 0.8 } },
    { selector: "edge.negative", style: { "line-style": "dashed", "line-color": "#f87171" } },
    { selector: ":selected", style: { "line-color": "#2563eb", "target-arrow-color": "#2563eb", width: 4 } },
  ];

  function graphQuery() {
    const params = new URLSearchParams();
    if (state.asOf) params.set("as_of", state.asOf);
    for (const [k, v] of Object.entries(state.filter)) if (v) params.set(k, v);
    return "?" + params.toString();
  }

  function fillPredicates(counts) {
    const select = $("predicate");
    const chosen = state.filter.predicate;
    select.replaceChildren(el("option", { value: "" }, "every predicate"));
    for (const [name, n] of Object.entries(counts)) {
      const option = el("option", { value: name }, name + " (" + n + ")");
      if (name === chosen) option.selected = true;
      select.append(option);
    }
  }

  async function loadGraph() {
    const graph = await api("/graph" + graphQuery());
    if (state.cy) state.cy.destroy();
    const els = elements(graph);
    state.cy = cytoscape({
      container: $("graph"),
      elements: els,
      style,
      // Few iterations: the view is capped, and a readable layout matters more than a perfect one.
      layout: { name: "cose", animate: false, randomize: false, nodeRepulsion: 400000, idealEdgeLength: 160,
        padding: 40, numIter: els.length > 300 ? 300 : 1000 },
      wheelSensitivity: 0.3,
      maxZoom: 1.6,
      hideEdgesOnViewport: els.length > 600,
    });
    state.cy.on("tap", "edge", (evt) => showWhy(evt.target.data("factId")));
    state.cy.on("tap", "node.entity", (evt) => {
      state.filter.entity = evt.target.id().slice(2);
      showEntity(evt.target.data("label"));
      loadGraph().catch((err) => showError(err.message));
    });
    fillPredicates(graph.predicates || {});
    const shown = graph.facts.length;
    const total = graph.total_facts ?? shown;
    $("summary").textContent =
      "showing " + shown + " of " + total + " facts, " + graph.entities.length + " entities " +
      (state.asOf ? "as of " + state.asOf : "now") + (graph.truncated ? " (most relevant first; filter to see more)" : "");
  }

  function showEntity(name) {
    $("entity-chip").hidden = !state.filter.entity;
    $("entity-name").textContent = name || state.filter.entity;
  }

  async function loadTimeline() {
    const data = await api("/timeline?limit=200");
    const list = $("timeline");
    list.replaceChildren();
    for (const ev of data.events) {
      list.append(
        el("li", { "data-fact-id": ev.fact.id, onclick: () => showWhy(ev.fact.id) },
          el("time", { datetime: ev.at }, when(ev.at)),
          el("span", { class: "change " + ev.change }, ev.change), " ", ev.fact.statement)
      );
    }
    if (!data.events.length) list.append(el("li", { class: "muted" }, "nothing yet"));
  }

  function factLine(f) {
    return el("div", {}, el("span", { class: "statement" }, f.statement), " ",
      el("span", { class: "window" }, "(" + day(f.valid_at) + " → " + day(f.invalid_at) + ", " + f.status + ")"));
  }

  async function showWhy(factId) {
    try {
      const why = await api("/facts/" + encodeURIComponent(factId) + "/why");
      const f = why.fact;
      const body = $("provenance-body");
      body.replaceChildren(
        factLine(f),
        el("div", { class: "window" }, f.subject + " · " + f.predicate + " · " + (f.object || "") + " · " + f.kind),
        el("div", { class: "window" }, "learned " + when(why.learned_at) + (f.expired_at ? " · retracted " + when(f.expired_at) : "")),
        el("h2", {}, "Source messages"),
        ...(why.episodes.length
          ? why.episodes.map((e) => el("div", { class: "episode" },
              el("div", { class: "meta" }, e.role + (e.session_id ? " · " + e.session_id : "") + " · " + when(e.occurred_at)),
              e.content))
          : [el("div", { class: "muted" }, "no source messages")]),
        ...(why.superseded.length ? [el("h2", {}, "Replaced"), ...why.superseded.map(factLine)] : []),
        ...(why.superseded_by.length ? [el("h2", {}, "Replaced by"), ...why.superseded_by.map(factLine)] : [])
      );
      $("provenance").hidden = false;
      $("provenance").dataset.factId = factId;
      if (state.cy) {
        state.cy.elements().unselect();
        state.cy.$id("f:" + factId).select();
      }
    } catch (err) {
      showError(err.message);
    }
  }
  state.showWhy = showWhy;

  async function refresh() {
    try {
      await Promise.all([loadGraph(), loadTimeline()]);
      state.ready = true;
      document.body.dataset.ready = "true";
    } catch (err) {
      showError(err.message);
    }
  }

  $("user").textContent = userId;
  $("filter-form").addEventListener("submit", (evt) => {
    evt.preventDefault();
    state.filter.q = $("q").value.trim();
    state.filter.predicate = $("predicate").value;
    state.filter.limit = $("limit").value;
    loadGraph().catch((err) => showError(err.message));
  });
  $("entity-clear").addEventListener("click", () => {
    state.filter.entity = "";
    showEntity("");
    loadGraph().catch((err) => showError(err.message));
  });
  $("asof-form").addEventListener("submit", (evt) => {
    evt.preventDefault();
    state.asOf = $("asof").value || null;
    refresh();
  });
  $("now").addEventListener("click", () => {
    $("asof").value = "";
    state.asOf = null;
    refresh();
  });
  refresh();
})();
