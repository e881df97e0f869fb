"""Hand-written pools of realistic values for the benign corpus.

What people really type into API fields: names with apostrophes, accents
and ampersands, addresses, prose, Markdown with code, search phrases,
filenames, URLs. Written from everyday API traffic (support tickets, CRM
notes, commit messages, chat), not from the signatures: nothing here was
chosen to pass or to fail a rule. `extract.py` and `openapi_gen.py` draw from
them; `hard_benign()` in `openapi_gen.py` builds the hard-benign source.
"""

FIRST_NAMES = [
    "Mary", "Seán", "Zoë", "José", "Renée", "Björn", "Chloé", "Nguyễn", "Aoife", "François", "Ana-María",
    "Jean-Luc", "D'Arcy", "Li", "Mohammed", "Priya", "Søren", "Łukasz", "Zuzana", "Kwame", "Ngozi", "Yuki",
    "Hannah", "Oliver", "Amélie", "Dmitri", "Siobhán", "Émile", "Tomás", "Ines", "Mei", "Rafael", "Olamide",
]
LAST_NAMES = [
    "O'Brien", "D'Souza", "Smith", "Müller", "Núñez", "García-López", "O'Neil", "McDonald", "van der Berg",
    "de la Cruz", "Nakamura", "Kowalski", "Ó Súilleabháin", "St. John", "Fitzgerald-Smythe", "Dubois", "Okafor",
    "Petrov", "Jones", "Al-Hassan", "Lee", "O'Connor", "DeAngelo", "Østergaard", "Brontë", "Castañeda",
]
COMPANIES = [
    "Smith & Sons", "Ben & Jerry's", "AT&T", "Procter & Gamble", "O'Reilly Media", "Müller GmbH & Co. KG",
    "Johnson & Johnson", "Barnes & Noble", "Marks & Spencer", "H&M", "Toys\"R\"Us", "Acme, Inc.",
    "Café Zoë", "L'Oréal", "Dunkin' Donuts", "Moët & Chandon", "Bed Bath & Beyond", "Crate & Barrel",
    "Nordström AB", "Société Générale", "Tom's of Maine", "3M", "Wells Fargo & Company", "Ernst & Young LLP",
    "Black & Decker", "Simon & Schuster", "Abercrombie & Fitch", "The Home Depot", "Kiehl's Since 1851",
]
STREETS = [
    "742 Evergreen Terrace", "221B Baker Street", "1600 Amphitheatre Pkwy", "10 Downing St.", "Flat 3, 12 O'Connell St",
    "Rue de l'Église 5", "Königsallee 92a", "350 Fifth Avenue, Suite 5100", "1 Infinite Loop", "Calle de Alcalá, 48",
    "P.O. Box 1234", "4-2-8 Shibakoen, Minato-ku", "Apt. #4B, 55 Water St", "Via dell'Indipendenza 8",
]
CITIES = ["Dublin", "São Paulo", "Zürich", "München", "Montréal", "Kraków", "Reykjavík", "New York", "St. John's",
          "Coeur d'Alene", "Saint-Étienne", "Düsseldorf", "Malmö", "Québec", "Tokyo", "Lagos", "Bengaluru"]
COUNTRIES = ["US", "IE", "DE", "FR", "BR", "JP", "IN", "GB", "CA", "NL", "SE", "PL", "NG", "ES"]
CURRENCIES = ["USD", "EUR", "GBP", "JPY", "BRL", "CAD", "INR", "SEK", "CHF"]
LOCALES = ["en-US", "fr-FR", "de-DE", "pt-BR", "ja-JP", "es-419", "en_GB", "zh-Hant-TW", "nb-NO"]
TIMEZONES = ["America/New_York", "Europe/Dublin", "Asia/Kolkata", "America/Sao_Paulo", "UTC", "Europe/Berlin",
             "Australia/Sydney", "America/Los_Angeles", "Asia/Tokyo"]
EMAIL_DOMAINS = ["example.com", "example.org", "mail.example.net", "company.example.co.uk", "exämple.de"]

TITLES = [
    "Q3 planning: budget & headcount", "Re: invoice #4471 (overdue?)", "Fix login redirect on Safari",
    "Can't upload files > 2 GB", "[URGENT] Refund for order 88123", "Weekly sync – notes", "Bug: 500 on /settings",
    "Feature request: dark mode", "Onboarding checklist for new hires", "Why is my balance negative?",
    "Update README.md", "Release v2.4.0", "Meeting w/ O'Brien & Co.", "Price change: 9.99 → 12.99",
    "\"Out of office\" auto-reply", "Sales report (draft) - DO NOT SHARE", "Select a new vendor for catering",
    "Drop-off times for Saturday", "Union Square store opening", "Order #1234 — where is it?", "TODO: rotate keys",
    "C++ vs. C# for the new service?", "50% off everything!!!", "Follow-up: contract renewal (2026/27)",
]

PROSE = [
    "Hi team, please find the updated figures attached. Let me know if anything looks off.",
    "The customer called twice today; she said the package arrived damaged and wants a replacement, not a refund.",
    "Thanks for getting back to me so quickly! I'll review the proposal over the weekend and reply on Monday.",
    "Can you select the best option from the list and send it to me before Friday?",
    "Please drop me a line when you're back in the office; we need to talk about the Q4 roadmap.",
    "We're updating our terms of service. The changes take effect on March 1st and affect how we handle refunds.",
    "Delete from the cart anything you don't need, then update your shipping address and check out.",
    "Union members will vote on the new agreement next week; results will be posted on the board.",
    "Insert the card, wait for the beep, then select 'Checking' or 'Savings' from the menu.",
    "I ordered 3 items but only 2 arrived. Order number is 55-2190-88. Could you look into it?",
    "The meeting is at 10:30 (not 11:00) in room 4B. Bring your laptop & charger.",
    "Hey! Just wanted to say the new dashboard is great :) The export to CSV is exactly what we needed.",
    "Where can I find the invoice for last month? I looked under Billing > History but it's empty.",
    "My name is O'Brien, not OBrien, and the system keeps dropping the apostrophe. Please fix!",
    "It's 5 o'clock somewhere... let's wrap this up & ship it tomorrow.",
    "The script ran fine on staging, but in production it timed out after 30 seconds. Logs are attached.",
    "Set the alarm for 6 a.m., feed the cat, and don't forget to water the plants on the balcony.",
    "If the order total is greater than $100 or the customer is a member, shipping is free.",
    "We tested with 1,000, 10,000 and 100,000 rows; performance was linear (about 2 ms per 1k rows).",
    "The fox jumped over the lazy dog -- again. Classic.",
    "Rate: 4/5. Delivery was fast; the box was a bit dented though.",
    "Please call me back at +1 (415) 555-0132 between 9am and 5pm PST.",
    "Our office will be closed Dec 24–26 and Dec 31–Jan 1. Happy holidays!",
    "Exec summary: revenue is up 12% YoY, churn down to 3.1%, NPS 47 (was 41).",
    "Select all that apply: [x] email  [ ] SMS  [x] push",
    "Order by Friday to get it by Christmas; orders placed later ship in January.",
    "The kids' drawings are on the fridge; the grown-ups' ones are in the drawer.",
    "I can't log in since yesterday -- it says \"invalid credentials\" even after a password reset.",
    "Reminder: the \"all hands\" is moved to Thursday, 3 pm CET / 9 am EST.",
    "Replace the filter every 3 months, or sooner if the red light is on.",
    "We'd like to join the beta program. We have ~200 users and mostly use the API from Python.",
    "Could you whitelist our IP range? We're behind a corporate proxy.",
    "Good morning! Quick question: is it possible to merge two accounts into one?",
    "The total should be (12 × 3) + 4 = 40, but the invoice says 44.",
    "Cancel my subscription at the end of the billing period, please. Thanks for everything!",
    "Shipping to Coeur d'Alene, ID takes 3–5 business days.",
    "The report's \"Created by\" column shows the wrong user for imported rows.",
    "No worries if not, but it'd be nice to have an option to turn off the weekly digest.",
    "Happy birthday, Zoë!!! 🎉🎂 Hope you have an amazing day.",
    "Sorry for the delay; our ERP went down and we're catching up on orders.",
    "Pick one: A) refund, B) store credit, C) exchange. Reply with the letter.",
    "Script and select tags are removed from the HTML preview for security reasons.",
    "The drop in sign-ups on 3/14 was caused by the outage, not the pricing change.",
    "Where were you when the lights went out? Back-up generator kicked in after 5 minutes.",
    "Is it possible to update the table from the mobile app, or only from the web?",
    "She said: 'I'll be there at 8.' He replied: \"Fine, but don't be late.\"",
    "Add 2 cups of flour, 1 tsp salt & 3 eggs; mix until smooth; bake at 180°C for 25 min.",
    "Our Wi-Fi password changed; ask the front desk (it's on the card by the printer).",
]

MARKDOWN = [
    "## Steps to reproduce\n\n1. Go to **Settings** → *Billing*\n2. Click `Download invoice`\n3. See error\n\n"
    "Expected: a PDF. Actual: `HTTP 500`.",
    "Looks good to me :+1:\n\n> nit: rename `tmpVal` to something clearer\n\nApproving.",
    "Here's the query I used:\n\n```sql\nSELECT id, email, created_at\nFROM users\nWHERE created_at >= '2026-01-01'\n"
    "ORDER BY created_at DESC\nLIMIT 50;\n```\n\nIt returns 0 rows on staging.",
    "To install:\n\n```bash\ncurl -fsSL https://example.com/install.sh | sh\nexport PATH=\"$HOME/.local/bin:$PATH\"\n"
    "mytool --version\n```",
    "Try this:\n\n```python\nimport requests\nr = requests.get(\"https://api.example.com/v1/items\", params={\"page\": 2})\n"
    "print(r.json()[\"data\"])\n```",
    "The fix is in `src/auth/session.ts`:\n\n```ts\nif (!user || user.disabled) {\n  return res.status(401).json({ error: 'unauthorized' });\n}\n```",
    "| plan | price | seats |\n|---|---:|---:|\n| Free | $0 | 1 |\n| Team | $12 | 10 |\n| Business | $40 | 100 |",
    "- [x] write tests\n- [x] update docs\n- [ ] bump version\n- [ ] tag release",
    "See [the docs](https://docs.example.com/api/pagination?version=2#cursor) and ![diagram](https://cdn.example.net/img/flow.png).",
    "Config that works for me:\n\n```yaml\nserver:\n  port: 8080\n  host: 0.0.0.0\nlogging:\n  level: debug\n```",
    "Use `git rebase -i HEAD~3` and squash the fixup commits, then `git push --force-with-lease`.",
    "The HTML template is roughly:\n\n```html\n<div class=\"card\">\n  <h2>{{ title }}</h2>\n  <p>{{ body }}</p>\n</div>\n```",
    "**Root cause:** the cron job ran twice because of DST.\n\n**Fix:** schedule in UTC (`0 3 * * *`).",
    "Error log:\n\n```\n2026-03-02T10:14:07Z ERROR [worker-3] job=export id=8812 timeout after 30000ms\n"
    "2026-03-02T10:14:07Z WARN  retrying (attempt 2/5)\n```",
    "JS snippet for the widget:\n\n```js\ndocument.querySelector('#buy').addEventListener('click', () => {\n  cart.add({ sku: 'A-100', qty: 1 });\n});\n```",
    "In Go:\n\n```go\nresp, err := http.Get(url)\nif err != nil {\n    return fmt.Errorf(\"fetch: %w\", err)\n}\ndefer resp.Body.Close()\n```",
    "# Release notes 2.4.0\n\n* New: CSV export\n* Fixed: timezone bug in reports (#1432)\n* Changed: `limit` now defaults to 50",
    "Run `npm ci && npm test` locally; CI uses Node 20. If it fails with `EACCES`, check the cache folder's owner.",
    "```json\n{\n  \"name\": \"Zoë O'Brien\",\n  \"roles\": [\"admin\", \"billing\"],\n  \"active\": true\n}\n```",
    "The formula is $E = mc^2$ and the integral $\\int_0^1 x^2 \\, dx = \\frac{1}{3}$.",
    "> **Note**\n> This endpoint is deprecated; use `/v2/orders` instead.",
    "Rust version:\n\n```rust\nfn main() {\n    let v: Vec<u32> = (1..=10).filter(|x| x % 2 == 0).collect();\n    println!(\"{:?}\", v);\n}\n```",
    "Dockerfile:\n\n```dockerfile\nFROM python:3.12-slim\nWORKDIR /app\nCOPY . .\nRUN pip install -r requirements.txt\nCMD [\"python\", \"main.py\"]\n```",
    "Java:\n\n```java\nMap<String, List<Order>> byCustomer = orders.stream()\n    .collect(Collectors.groupingBy(Order::getCustomerId));\n```",
    "In Excel: `=IF(A2>100, \"high\", \"low\")` and `=SUM(B2:B20)/COUNT(B2:B20)`.",
    "PHP example:\n\n```php\n$total = array_sum(array_column($items, 'price'));\necho number_format($total, 2);\n```",
    "Shell one-liner to count lines: `wc -l *.csv | sort -n | tail -5`",
    "C#:\n\n```csharp\nvar user = await db.Users.FirstOrDefaultAsync(u => u.Email == email);\nif (user is null) return NotFound();\n```",
]

SEARCHES = [
    "O'Brien", "\"exact phrase\"", "rock & roll", "c++ tutorial", "c# async await", "price < 20", "50% off",
    "how to select multiple rows", "select the best option", "drop shipping", "union station", "where to buy",
    "update iphone", "delete account", "order by date", "insert picture into word", "java script tutorial",
    "\"machine learning\" -python", "site:example.com pricing", "tag:urgent status:open", "author:\"Zoë Smith\"",
    "title:\"annual report\" AND year:2025", "red OR blue shoes", "size 10-12", "2 + 2", "what is 1/3 as a decimal",
    "café", "naïve bayes", "résumé template", "what's new in v2.0?", "#hashtag", "@mention", "email me",
    "is 0.1 + 0.2 = 0.3?", "x^2 - 4 = 0", "alert settings", "prompt engineering", "confirm booking",
    "exec summary template", "script for wedding speech", "table for 4 at 7pm", "1 bed 1 bath", "OR-tools",
    "sleep 8 hours", "benchmark laptops 2026", "the onion", "ping pong table", "cat food", "ls 430 lexus",
]

FILENAMES = [
    "Q3 report (final) v2.pdf", "résumé_2026.docx", "IMG_20260114_093012.jpg", "budget-2026.xlsx", "notes.txt",
    "logo@2x.png", "Meeting notes 14.01.docx", "invoice #4471.pdf", "O'Brien contract.pdf", "data export (1).csv",
    "Screenshot 2026-02-03 at 10.15.22.png", "backup_photos.zip", "presentation_FINAL_final.pptx", "readme.md",
    "avatar.webp", "signed & scanned.pdf", "floor plan – level 2.dwg", "song.mp3", "main.py", "index.html",
]

URLS = [
    "https://example.com/", "https://www.example.org/about-us", "https://app.example.com/oauth/callback",
    "https://app.example.com/auth/callback?provider=google", "https://shop.example.com/products/blue-shirt?size=M&color=navy",
    "https://hooks.example.net/webhooks/9f2c1a/events", "https://cdn.example.net/assets/img/logo.png?v=3",
    "https://example.com/search?q=rock+%26+roll&page=2", "https://docs.example.com/guides/getting-started#install",
    "https://accounts.example.com/login?next=%2Fdashboard%3Ftab%3Dbilling", "https://example.co.uk/path/to/page.html",
    "https://forms.example.com/f/abc123?utm_source=newsletter&utm_medium=email&utm_campaign=spring_2026",
    "https://calendar.example.com/event?id=42&start=2026-03-01T10:00:00Z", "https://example.com/a/b/c/../d",
    "https://github.com/example-org/example-repo/pull/123#discussion_r456", "https://maps.example.com/?q=48.8584,2.2945",
    "https://example.com/%E2%82%AC/price", "https://myapp.example.com/redirect?url=https%3A%2F%2Fpartner.example.org%2Flanding",
    "https://zoë.example.de/über-uns", "https://api.example.com/v1/files/report.pdf?download=1",
    "https://s3.eu-west-1.amazonaws.com/example-bucket/uploads/2026/01/photo.jpg",
    "https://www.youtube.com/watch?v=dQw4w9WgXcQ&t=42s", "https://login.example.com/saml/acs",
    "myapp://oauth/callback", "com.example.app:/oauth2redirect", "https://example.com/callback?state=xyz&code=abc",
]

USER_AGENTS = [
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0 Safari/537.36",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/125.0.0.0 Safari/537.36 Edg/125.0.0.0",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Safari/605.1.15",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148",
    "Mozilla/5.0 (X11; Ubuntu; Linux x86_64; rv:126.0) Gecko/20100101 Firefox/126.0",
    "python-requests/2.31.0", "okhttp/4.12.0", "Go-http-client/2.0", "axios/1.6.8", "node-fetch/1.0 (+https://github.com/bitinn/node-fetch)",
    "Apache-HttpClient/4.5.14 (Java/17.0.9)", "Dart/3.3 (dart:io)", "PostmanRuntime/7.37.3", "curl/8.5.0",
    "MyApp/3.2.1 (iPhone; iOS 17.4; Scale/3.00)", "Stripe/v1 RubyBindings/10.12.0", "twilio-python/9.0.0 (Linux x86_64) Python/3.12.2",
    "Slackbot 1.0 (+https://api.slack.com/robots)", "Faraday v2.9.0", "Ktor client", "RestSharp/110.2.0.0",
]

WORDS = ("order invoice shipment customer account status pending active green blue monthly report summary notes "
         "review delivery warehouse support ticket project alpha beta release draft archive team sales marketing "
         "north south east west premium basic standard gold silver travel expense payroll").split()
