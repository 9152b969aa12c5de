/* allcare pages: draw the charts, read karyotypes as they are typed, put the focus on form errors.
   Hand-written, no framework; every feature degrades to plain HTML (tables, a normal form) without it. */
(function () {
  "use strict";

  function drawCharts() {
    var canvases = document.querySelectorAll("[data-chart]");
    if (!canvases.length) { return; }
    if (!window.Plotly) { return; } /* the tables under each chart remain */
    canvases.forEach(function (canvas) {
      var source = document.getElementById(canvas.getAttribute("data-chart"));
      if (!source) { return; }
      try {
        var spec = JSON.parse(source.textContent);
        if (spec.narrow && canvas.clientWidth < spec.narrow.below) { merge(spec.layout, spec.narrow.layout); }
        writeHovers(spec);
        canvas.classList.add("is-drawn");
        window.Plotly.newPlot(canvas, spec.data, spec.layout, spec.config).then(function () {
          canvas.setAttribute("data-drawn", "true");
        });
      } catch (error) {
        canvas.classList.remove("is-drawn");
      }
    });
  }

  /* Hover texts are written here, not by the server: it sends each trace's columns (numbers, dates, codes)
     and small word tables once (spec.hover), which keeps the page small and its first view cheap.
     Every text that goes into a label is escaped: plotly reads <b>, <a href> ... in hover text. */
  function escapeText(value) {
    return String(value).replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
  }

  /* A number as the tables print it: whole above 100, one decimal above 10, else three significant digits. */
  function numberText(value) {
    if (value === null || value === undefined) { return ""; }
    if (value === 0) { return "0"; }
    var size = Math.abs(value);
    if (size >= 100) { return value.toFixed(0); }
    if (size >= 10) { return String(Number(value.toFixed(1))); }
    return String(Number(value.toPrecision(3)));
  }

  /* An MRD fraction as a percentage (0.0003 -> "0.03%"), as the tables print it. */
  function percentText(fraction) {
    if (fraction === null || fraction === undefined) { return "-"; }
    var pct = fraction * 100;
    if (pct === 0) { return "0%"; }
    return String(Number(pct.toPrecision(pct >= 0.001 ? 4 : 2))) + "%";
  }

  function words(code) {
    return String(code).replace(/_/g, " ");
  }

  /* Entry i of a column; a column the server wrote once (the same for every point) is that value. */
  function cell(column, i) {
    return Array.isArray(column) ? column[i] : column;
  }

  var HOVERS = {
    /* A blood count: "<b>ANC 0.4 x10^9/L</b> (2024-01-08)", its range, flag and CTCAE grade. */
    count: function (h, trace, i) {
      var comparator = cell(h.comparator, i), lower = cell(h.lower, i), upper = cell(h.upper, i);
      var flag = cell(h.flag, i), term = cell(h.term, i), grade = cell(h.grade, i);
      var value = (comparator ? comparator + " " : "") + numberText(trace.y[i]);
      var text = "<b>" + escapeText(h.label + " " + value + " " + h.unit) + "</b> (" + escapeText(trace.x[i]) + ")";
      if (lower !== null && lower !== undefined && upper !== null && upper !== undefined) {
        text += "<br>" + (cell(h.source, i) === "lab" ? "lab range" : "reference") + " " +
          numberText(lower) + "-" + numberText(upper);
      }
      if (flag) { text += "<br>" + escapeText(flag); }
      if (term) { text += "<br>" + escapeText(term) + ": " + (grade === null || grade === undefined ? "grade not decided" : "grade " + grade); }
      return text;
    },
    /* An MRD result: "<b>MRD 0.01%</b> (2024-02-05)<br>positive · flow · marrow · day 29<br>sensitivity 0.001%". */
    mrd: function (h, trace, i) {
      var text = "<b>MRD " + percentText(h.value[i]) + "</b> (" + escapeText(trace.x[i]) + ")<br>" + escapeText(words(h.status[i]));
      if (h.method[i]) { text += " \u00b7 " + escapeText(h.method[i]); }
      if (h.sample[i]) { text += " \u00b7 " + escapeText(h.sample[i]); }
      if (h.timepoint[i]) { text += " \u00b7 " + escapeText(words(h.timepoint[i])); }
      if (h.sensitivity[i]) { text += "<br>sensitivity " + percentText(h.sensitivity[i]); }
      return text;
    },
    /* A maintenance count: "<b>2025-03-04</b>: in target<br>ANC 1.2<br>platelets 210 ...". */
    maintenance: function (h, trace, i) {
      var parts = ["<b>" + escapeText(trace.x[i]) + "</b>: " + escapeText(h.zones[h.zone[i]] || h.zone[i])];
      [["anc", "ANC"], ["platelets", "platelets"], ["wbc", "WBC"]].forEach(function (pair) {
        var value = h[pair[0]][i];
        if (value !== null && value !== undefined) { parts.push(pair[1] + " " + numberText(value)); }
      });
      var dose = h.mercaptopurine_di_pct[i];
      if (dose !== null && dose !== undefined) { parts.push("mercaptopurine " + Number(dose.toPrecision(6)) + "% of protocol"); }
      return parts.join("<br>");
    }
  };

  function writeHovers(spec) {
    (spec.hover || []).forEach(function (h) {
      var trace = spec.data[h.trace], write = HOVERS[h.kind];
      if (!trace || !write) { return; }
      trace.text = trace.x.map(function (x, i) { return write(h, trace, i); });
    });
  }

  /* Copy the keys of `extra` into `target`, object values key by key (a chart's phone-width layout). */
  function merge(target, extra) {
    Object.keys(extra).forEach(function (key) {
      var value = extra[key];
      if (value && typeof value === "object" && !Array.isArray(value) && target[key] && typeof target[key] === "object") {
        merge(target[key], value);
      } else {
        target[key] = value;
      }
    });
  }

  /* A table wider than its box says so, instead of hiding columns behind an edge nobody sees. */
  function scrollCues() {
    document.querySelectorAll(".table-scroll").forEach(function (box) {
      var wide = box.scrollWidth > box.clientWidth + 1;
      box.classList.toggle("is-scrollable", wide);
      var cue = box.previousElementSibling;
      if (wide && !(cue && cue.classList.contains("scroll-cue"))) {
        cue = document.createElement("p");
        cue.className = "scroll-cue";
        cue.setAttribute("aria-hidden", "true");
        cue.textContent = "Swipe or scroll sideways for more columns \u2192";
        box.parentNode.insertBefore(cue, box);
      } else if (!wide && cue && cue.classList.contains("scroll-cue")) {
        cue.parentNode.removeChild(cue);
      }
    });
  }

  function karyotypePreview(input) {
    var output = document.getElementById(input.getAttribute("data-karyotype"));
    var timer = null;
    var latest = 0;

    function show(items, bad) {
      output.textContent = "";
      output.classList.toggle("karyotype-parse--bad", !!bad);
      items.forEach(function (item) { output.appendChild(item); });
    }

    function paragraph(text, className) {
      var p = document.createElement("p");
      p.textContent = text;
      if (className) { p.className = className; }
      return p;
    }

    function render(result) {
      if (result.empty) {
        show([paragraph("The reading of the karyotype appears here as you type.", "muted")]);
        return;
      }
      var summary = [];
      if (result.modal_number !== null && result.modal_number !== undefined) { summary.push("modal number " + result.modal_number); }
      summary.push(result.abnormality_count + " abnormalit" + (result.abnormality_count === 1 ? "y" : "ies"));
      if (result.is_complex) { summary.push("complex karyotype"); }
      if (result.recurrent.length) { summary.push("recurrent: " + result.recurrent.join(", ")); }
      var list = document.createElement("ul");
      result.lines.forEach(function (line) {
        var li = document.createElement("li");
        li.textContent = line;
        if (/^(Problem|Warning)/.test(line)) { li.className = "problem"; }
        list.appendChild(li);
      });
      var items = [paragraph("Read as: " + summary.join(" · ")), list];
      if (result.sex_mismatch) { items.unshift(paragraph("Check: " + result.sex_mismatch + ".", "problem")); }
      show(items, !result.ok || !!result.sex_mismatch);
      fillModalNumber(result.modal_number);
    }

    /* The modal number box follows the karyotype until the person types in it themselves. */
    var modal = input.form ? input.form.querySelector("[name=modal_number]") : null;
    var filled = modal ? modal.value : "";
    function fillModalNumber(value) {
      if (!modal || value === null || value === undefined) { return; }
      if (modal.value === "" || modal.value === filled) {
        modal.value = String(value);
        filled = modal.value;
      }
    }
    var sex = input.form ? input.form.getAttribute("data-patient-sex") : "";

    function ask() {
      var text = input.value.trim();
      var ticket = ++latest;
      if (!text) { render({ empty: true }); return; }
      fetch("/karyotype/parse?text=" + encodeURIComponent(text) + (sex ? "&sex=" + encodeURIComponent(sex) : ""), {
        credentials: "same-origin", headers: { "Accept": "application/json" }
      }).then(function (response) {
        if (!response.ok) { throw new Error("HTTP " + response.status); }
        return response.json();
      }).then(function (result) {
        if (ticket === latest) { render(result); }
      }).catch(function () {
        if (ticket === latest) { show([paragraph("Could not read the karyotype just now; it is still checked when you save.", "problem")], true); }
      });
    }

    input.addEventListener("input", function () {
      window.clearTimeout(timer);
      timer = window.setTimeout(ask, 250);
    });
    if (input.value.trim()) { ask(); }
  }

  function focusErrors() {
    var summary = document.querySelector(".error-summary");
    if (summary) { summary.focus(); }
  }

  function ready() {
    drawCharts();
    scrollCues();
    window.addEventListener("resize", scrollCues);
    document.querySelectorAll("details").forEach(function (d) { d.addEventListener("toggle", scrollCues); });
    document.querySelectorAll("[data-karyotype]").forEach(karyotypePreview);
    focusErrors();
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", ready);
  } else {
    ready();
  }
})();
