// The reference page: Swagger UI over /docs/openapi.json, and the Socket.IO events of
// /docs/asyncapi.json rendered here (Swagger UI reads OpenAPI only). Plain script, no
// build step: SwaggerUIBundle is the global of swagger-ui-bundle.js, loaded before it.
(function () {
  'use strict';

  /** One section shown at a time, named by the URL's fragment so that a link can open it. */
  function show(tab) {
    document.querySelectorAll('[data-section]').forEach(function (s) { s.hidden = s.dataset.section !== tab; });
    document.querySelectorAll('[data-tab]').forEach(function (a) {
      if (a.dataset.tab === tab) a.setAttribute('aria-current', 'page');
      else a.removeAttribute('aria-current');
    });
  }
  var fromUrl = function () { return location.hash === '#events' ? 'events' : 'http'; };
  // The tabs switch by themselves rather than through `hashchange`, which Swagger UI's
  // router may consume; the fragment is still written, and read back on history moves.
  document.querySelectorAll('[data-tab]').forEach(function (a) {
    a.addEventListener('click', function (e) {
      e.preventDefault();
      history.pushState(null, '', '#' + a.dataset.tab);
      show(a.dataset.tab);
    });
  });
  window.addEventListener('popstate', function () { show(fromUrl()); });
  show(fromUrl());

  window.ui = SwaggerUIBundle({
    url: '/docs/openapi.json',
    dom_id: '#swagger-ui',
    presets: [SwaggerUIBundle.presets.apis],
    layout: 'BaseLayout',
    // The fragment picks the section; Swagger UI's deep links would take it over.
    deepLinking: false,
    // No call to the public validator: the page asks nothing of another origin.
    validatorUrl: null,
    docExpansion: 'list',
    defaultModelsExpandDepth: 0,
  });

  function el(tag, attrs, children) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (k) { node.setAttribute(k, attrs[k]); });
    (children || []).forEach(function (c) { node.append(c); });
    return node;
  }

  /** Text whose `quoted` parts are code, as the documents write them (Markdown's inline code only). */
  function prose(tag, attrs, text) {
    return el(tag, attrs, String(text || '').split('`').map(function (part, i) { return i % 2 ? el('code', {}, [part]) : part; }));
  }

  var pretty = function (value) { return JSON.stringify(value, null, 2); };

  /** `{ $ref: "#/components/schemas/Message" }` -> the schema it names. */
  function resolve(doc, value) {
    if (!value || typeof value.$ref !== 'string') return value;
    return value.$ref.slice(2).split('/').reduce(function (at, part) { return at && at[part]; }, doc);
  }

  function block(title, value) {
    return el('div', { class: 'block' }, [el('h4', {}, [title]), el('pre', {}, [pretty(value)])]);
  }

  function eventEntry(doc, op) {
    var message = resolve(doc, resolve(doc, op.messages[0]));
    var body = [prose('p', {}, op.description)];
    (message.examples || []).forEach(function (ex) { body.push(block('Payload example', ex.payload)); });
    body.push(block('Payload schema', resolve(doc, message.payload)));
    if (op.reply) {
      var ack = resolve(doc, resolve(doc, op.reply.messages[0]));
      (ack.examples || []).forEach(function (ex) { body.push(block('Ack (' + ex.name + ')', ex.payload)); });
    }
    return el('details', { class: 'event', 'data-event': op.title }, [
      el('summary', {}, [el('code', { class: 'name' }, [op.title]), prose('span', { class: 'summary' }, op.summary)]),
      el('div', { class: 'event-body' }, body),
    ]);
  }

  fetch('/docs/asyncapi.json', { headers: { accept: 'application/json' } })
    .then(function (res) {
      if (!res.ok) throw new Error('/docs/asyncapi.json answered ' + res.status);
      return res.json();
    })
    .then(function (doc) {
      var intro = document.getElementById('events-intro');
      doc.info.description.split('\n\n').slice(0, 2).forEach(function (p) { intro.append(prose('p', {}, p)); });
      Object.keys(doc.operations).forEach(function (id) {
        var op = doc.operations[id];
        document.getElementById(op.action === 'receive' ? 'client-events' : 'server-events').append(eventEntry(doc, op));
      });
    })
    .catch(function (err) {
      var box = document.getElementById('events-error');
      box.textContent = 'The events could not be shown: ' + err.message;
      box.hidden = false;
    });
})();
