/* Builds the home page's "Latest news" box after load, from a JSON feed named in the box's
   data-src attribute. Sets data-loaded="true" on the box when done. */
(function () {
  "use strict";

  function render(box, data) {
    var list = document.createElement("ul");
    list.className = "latest-news__list";
    data.items.forEach(function (item) {
      var li = document.createElement("li");
      var img = document.createElement("img");
      img.src = item.image;
      img.width = 320;
      img.height = 180;
      if (item.alt !== null) {
        img.alt = item.alt;
      }
      var title = document.createElement("h3");
      var link = document.createElement("a");
      link.href = item.url;
      link.textContent = item.title;
      title.appendChild(link);
      var date = document.createElement("p");
      date.className = "meta";
      date.textContent = new Date(item.date + "T12:00:00Z").toLocaleDateString("en-GB", {
        day: "numeric", month: "long", year: "numeric", timeZone: "UTC"
      });
      li.appendChild(img);
      li.appendChild(title);
      li.appendChild(date);
      list.appendChild(li);
    });
    var more = document.createElement("a");
    more.className = "latest-news__more";
    more.href = data.more.url;
    if (data.more.text) {
      more.textContent = data.more.text;
    } else {
      more.innerHTML = '<svg aria-hidden="true" focusable="false" width="24" height="24" viewBox="0 0 16 16"><path d="M4 2l8 6-8 6z" fill="currentColor"/></svg>';
    }
    var status = box.querySelector(".latest-news__status");
    if (status) {
      status.remove();
    }
    box.appendChild(list);
    box.appendChild(more);
    box.setAttribute("data-loaded", "true");
  }

  function start() {
    var box = document.getElementById("latest-news");
    if (!box) {
      return;
    }
    fetch(box.getAttribute("data-src"), { headers: { "Accept": "application/json" } })
      .then(function (response) { return response.json(); })
      .then(function (data) { render(box, data); })
      .catch(function () {
        box.setAttribute("data-loaded", "error");
      });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
