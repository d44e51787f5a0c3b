// @ts-check
// The details view of one transfer: draws what the extension posts (a plain model with every
// string already localized). No framework: a few DOM nodes and one SVG.
(function () {
  const vscode = acquireVsCodeApi();
  const root = /** @type {HTMLElement} */ (document.getElementById('details'));
  const SVG = 'http://www.w3.org/2000/svg';
  const COLOURS = 6;

  /** @param {string} tag @param {Record<string, string>} [attrs] @param {(Node|string)[]} [children] */
  function el(tag, attrs = {}, children = []) {
    const node = document.createElement(tag);
    for (const [name, value] of Object.entries(attrs)) node.setAttribute(name, value);
    for (const child of children) node.append(child);
    return node;
  }

  function time(at) {
    return new Date(at).toLocaleTimeString(document.documentElement.lang || undefined, { hour12: false });
  }

  function pieceMap(model) {
    const section = el('section', { id: 'pieces', 'aria-labelledby': 'pieces-title' }, [el('h2', { id: 'pieces-title' }, [model.strings.pieces])]);
    if (model.pieces.length === 0) {
      section.append(el('p', { class: 'note' }, [model.strings.unknownLength]));
      return section;
    }
    const bar = el('div', { class: 'bar', role: 'img', tabindex: '0', 'aria-label': model.strings.pieceMap });
    for (const piece of model.pieces) {
      const colour = piece.state === 'flight' ? ` c${piece.connection % COLOURS}` : '';
      const node = el('div', { class: `piece ${piece.state}${colour}`, title: piece.label, 'data-state': piece.state });
      node.style.left = `${(piece.from * 100).toFixed(3)}%`;
      node.style.width = `${Math.max(0.2, (piece.to - piece.from) * 100).toFixed(3)}%`;
      bar.append(node);
    }
    const legend = el('div', { class: 'legend' }, [
      el('span', {}, [el('span', { class: 'swatch done' }), model.strings.done]),
      el('span', {}, [el('span', { class: 'swatch c0' }), model.strings.flight]),
      el('span', {}, [el('span', { class: 'swatch missing' }), model.strings.missing]),
    ]);
    section.append(bar, legend);
    return section;
  }

  function speedGraph(model) {
    const { samples, colours, limit, max } = model.speed;
    const section = el('section', { id: 'speed', 'aria-labelledby': 'speed-title' }, [el('h2', { id: 'speed-title' }, [model.strings.speed])]);
    // Nothing measured yet (the panel opened after the transfer ran): say so rather than draw a flat line.
    if (samples.length < 2 || samples.every((s) => s.total === 0)) {
      section.append(el('p', { class: 'note' }, [model.strings.noSamples]));
      return section;
    }
    const width = 600;
    const height = 140;
    const t0 = samples[0].at;
    const span = Math.max(1, samples[samples.length - 1].at - t0);
    const x = (at) => (((at - t0) / span) * width).toFixed(1);
    const y = (value) => (height - (value / max) * height).toFixed(1);
    const svg = document.createElementNS(SVG, 'svg');
    svg.setAttribute('class', 'graph');
    svg.setAttribute('viewBox', `0 0 ${width} ${height}`);
    svg.setAttribute('preserveAspectRatio', 'none');
    svg.setAttribute('role', 'img');
    svg.setAttribute('tabindex', '0');
    svg.setAttribute('aria-label', [model.strings.speed, model.strings.peak, model.strings.limit].filter(Boolean).join(', '));
    const line = (points, cls) => {
      const poly = document.createElementNS(SVG, 'polyline');
      poly.setAttribute('points', points.join(' '));
      poly.setAttribute('class', cls);
      svg.append(poly);
    };
    for (const [start, index] of Object.entries(colours)) {
      line(samples.map((s) => `${x(s.at)},${y(s.connections[start] ?? 0)}`), `c${index % COLOURS} connection`);
    }
    line(samples.map((s) => `${x(s.at)},${y(s.total)}`), 'total');
    if (limit > 0) {
      const limitLine = document.createElementNS(SVG, 'line');
      limitLine.setAttribute('class', 'limit');
      limitLine.setAttribute('x1', '0');
      limitLine.setAttribute('x2', String(width));
      limitLine.setAttribute('y1', y(limit));
      limitLine.setAttribute('y2', y(limit));
      svg.append(limitLine);
    }
    const legend = el('div', { class: 'legend' }, [el('span', {}, [model.strings.total]), el('span', {}, [model.strings.peak])]);
    for (const index of Object.values(colours)) {
      legend.append(el('span', {}, [el('span', { class: `swatch c${index % COLOURS}` }), model.strings.connection.replace('{0}', String(index + 1))]));
    }
    if (model.strings.limit) legend.append(el('span', { class: 'limit-label' }, [model.strings.limit]));
    section.append(svg, legend);
    return section;
  }

  function story(model) {
    const section = el('section', { id: 'requests', 'aria-labelledby': 'requests-title' }, [el('h2', { id: 'requests-title' }, [model.strings.requests])]);
    if (model.strings.dropped) section.append(el('p', { class: 'note' }, [model.strings.dropped]));
    if (model.story.length === 0) {
      section.append(el('p', { class: 'note' }, [model.strings.noRequests]));
      return section;
    }
    const body = el('tbody');
    for (const item of model.story) {
      const answer = el('td', { class: 'answer' });
      if (item.outcome) answer.append(el('div', { class: 'outcome' }, [item.outcome]));
      if (item.received.length) answer.append(el('div', { class: 'headers' }, [item.received.join('\n')]));
      if (item.serverOffset !== undefined) answer.append(el('div', { class: 'offset' }, [model.strings.serverOffset.replace('{0}', String(item.serverOffset))]));
      const request = el('td', { class: 'request' }, [el('div', { class: 'title' }, [item.title])]);
      if (item.sent.length) request.append(el('div', { class: 'headers' }, [item.sent.join('\n')]));
      body.append(el('tr', { class: `${item.kind} ${item.tone}` }, [el('td', { class: 'time' }, [time(item.at)]), request, answer]));
    }
    const head = el('thead', {}, [el('tr', {}, [el('th', {}, [model.strings.time]), el('th', {}, [model.strings.request]), el('th', {}, [model.strings.answer])])]);
    section.append(el('div', { class: 'table-wrap', tabindex: '0', 'aria-label': model.strings.requests }, [el('table', {}, [head, body])]));
    section.append(el('p', { class: 'note' }, [model.strings.hidden]));
    return section;
  }

  function render(model) {
    // Keep the reader's scroll position in the request table across repaints.
    const scroller = root.querySelector('.table-wrap');
    const scrollTop = scroller ? scroller.scrollTop : 0;
    const stuckToEnd = scroller ? scroller.scrollTop + scroller.clientHeight >= scroller.scrollHeight - 4 : true;
    const focusedId = document.activeElement && document.activeElement.closest('section') ? document.activeElement.closest('section').id : undefined;
    root.replaceChildren(
      el('header', {}, [el('h1', {}, [model.name]), el('p', { class: 'summary', id: 'summary' }, [model.summary]), el('p', { class: 'summary' }, [model.sizeText])]),
      pieceMap(model),
      speedGraph(model),
      story(model),
    );
    root.dataset.state = model.kind;
    const table = root.querySelector('.table-wrap');
    if (table) table.scrollTop = stuckToEnd ? table.scrollHeight : scrollTop;
    if (focusedId) {
      const again = root.querySelector(`#${focusedId} [tabindex]`);
      if (again instanceof HTMLElement) again.focus();
    }
  }

  window.addEventListener('message', (event) => {
    if (event.data && event.data.type === 'model') render(event.data.model);
  });
  vscode.postMessage({ type: 'ready' });
})();
