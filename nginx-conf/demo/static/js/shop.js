// Larkspur Goods: add-to-cart without a page reload, the way a real shop's
// front end calls its own API (POST /cart with JSON, answered with the cart).
"use strict";

function showToast(text) {
  const t = document.createElement("div");
  t.className = "toast";
  t.textContent = text;
  document.body.appendChild(t);
  setTimeout(() => t.remove(), 2500);
}

function setCount(n) {
  const el = document.getElementById("cart-count");
  if (el) el.textContent = n > 0 ? String(n) : "";
}

document.addEventListener("submit", async (event) => {
  const form = event.target;
  if (!form.matches("form.add")) return;
  event.preventDefault();
  const body = {
    product_id: Number(form.dataset.product),
    qty: Number(form.elements.qty.value || 1),
  };
  try {
    const res = await fetch("/cart", {
      method: "POST",
      headers: { "Content-Type": "application/json", "Accept": "application/json" },
      body: JSON.stringify(body),
      credentials: "same-origin",
    });
    const data = await res.json();
    if (!res.ok) throw new Error(data.error || res.statusText);
    setCount(data.count);
    showToast("Added to cart");
  } catch (err) {
    showToast("Could not add to cart: " + err.message);
  }
});
