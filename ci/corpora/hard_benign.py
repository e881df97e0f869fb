"""The `hard-benign` source: request shapes real APIs see that look most like
attacks to a signature engine (issue 9 item 3), written by hand here:

OData `$filter`/`$select`/`$expand`/`$orderby`/`$search`, GraphQL queries
and variables (POST and GET), Markdown and code in comment fields, OAuth
redirect URIs and `next`/`return_to` URLs, base64 blobs (file contents, data
URLs, JWTs), math, SQL-looking prose, forum/news texts in the style of
GoTestWAF's false-positive set, names with apostrophes and ampersands in
forms, search syntax (Lucene, GitHub, Elasticsearch), and headers with such
values. Each request combines a template with values drawn from the pools,
so the same sentence meets different fields and encodings.
"""
import base64
import json
import urllib.parse

import pools

ODATA_FILTERS = [
    "Price gt 20 and Price le 100", "Name eq 'O''Brien'", "startswith(CompanyName,'Alfr')",
    "contains(tolower(Description),'gluten free')", "year(OrderDate) eq 2025 and month(OrderDate) ge 6",
    "Category/Name eq 'Beverages' or Category/Name eq 'Condiments'", "not endswith(Email,'@example.com')",
    "Id in (1, 2, 3)", "Tags/any(t: t eq 'urgent')", "Lines/all(l: l/Quantity gt 0)",
    "createdDateTime ge 2026-01-01T00:00:00Z", "displayName eq 'Zoë Smith'", "Status ne 'Closed' and Priority eq 1",
    "substringof('Smith & Sons', CompanyName)", "Address/City eq 'Coeur d''Alene'", "Rating ge 4.5",
    "assignedLicenses/$count eq 0", "UnitsInStock sub UnitsOnOrder lt 10", "Freight div 2 gt 50",
    "length(ProductName) gt 20", "indexof(Name, 'select') eq 0", "ShipCountry eq 'Ireland' and ShippedDate eq null",
    "isof(Model.Customer)", "DeliveryDate lt now()", "BusinessPartnerCategory eq '1'",
    "accountEnabled eq true and userType eq 'Member'", "cast(Price, Edm.Int32) eq 10",
]
ODATA_SELECT = ["Name,Price", "id,displayName,mail", "OrderID,CustomerID,OrderDate,Freight", "*",
                "BusinessPartner,BusinessPartnerFullName", "Name,Address/City"]
ODATA_EXPAND = ["Category", "Supplier($select=CompanyName)", "Orders($filter=Freight gt 10;$top=5)",
                "manager($levels=max;$select=id,displayName)", "Lines($expand=Product)", "to_BusinessPartnerAddress"]
ODATA_ORDER = ["Price desc", "Name asc,Price desc", "createdDateTime desc", "OrderDate"]
ODATA_PATHS = ["/odata/Products", "/odata/v4/Orders", "/v1.0/users", "/v1.0/me/messages", "/api/data/v9.2/accounts",
               "/sap/opu/odata/sap/API_BUSINESS_PARTNER/A_BusinessPartner", "/odata/Customers('ALFKI')/Orders",
               "/Northwind.svc/Employees", "/_api/web/lists/getbytitle('Documents')/items"]

GRAPHQL = [
    ("query GetUser($id: ID!) {\n  user(id: $id) {\n    id\n    name\n    email\n    avatarUrl(size: 64)\n  }\n}",
     {"id": "VXNlcjoxMjM0"}),
    ("query Search($q: String!, $first: Int = 10, $after: String) {\n  search(query: $q, type: REPOSITORY, first: $first, "
     "after: $after) {\n    repositoryCount\n    edges { cursor node { ... on Repository { nameWithOwner stargazerCount } } }\n"
     "    pageInfo { hasNextPage endCursor }\n  }\n}", {"q": "language:rust stars:>100", "first": 20, "after": None}),
    ("mutation AddComment($input: AddCommentInput!) {\n  addComment(input: $input) {\n    commentEdge { node { id body } }\n"
     "  }\n}", {"input": {"subjectId": "I_kwDOAbc123", "body": "Thanks! Merged in #42 :tada:"}}),
    ("mutation UpdateProfile($name: String, $bio: String) {\n  updateProfile(name: $name, bio: $bio) { ok errors { field "
     "message } }\n}", {"name": "Seán O'Brien", "bio": "Engineer @ Smith & Sons. Opinions are my own."}),
    ("query Orders($where: OrderFilter, $orderBy: [OrderSort!]) {\n  orders(where: $where, orderBy: $orderBy, limit: 50) "
     "{\n    id total status customer { name }\n  }\n}",
     {"where": {"status": {"in": ["PAID", "SHIPPED"]}, "total": {"gte": 100}}, "orderBy": [{"createdAt": "DESC"}]}),
    ("{ viewer { login repositories(first: 5, orderBy: {field: UPDATED_AT, direction: DESC}) { nodes { name } } } }", None),
    ("query ($slug: String!) {\n  post(slug: $slug) {\n    title\n    content(format: MARKDOWN)\n    author { name }\n"
     "    comments(first: 3) @include(if: true) { totalCount }\n  }\n}", {"slug": "select-the-right-database"}),
    ("query IntrospectionQuery { __schema { queryType { name } mutationType { name } types { name kind } } }", None),
    ("fragment Price on Product { price { amount currencyCode } }\nquery P($handle: String!) { product(handle: $handle) "
     "{ title ...Price variants(first: 3) { edges { node { sku ...Price } } } } }", {"handle": "blue-shirt"}),
    ("subscription OnMessage($room: ID!) { messageAdded(roomId: $room) { id text sender { name } } }", {"room": "42"}),
    ("mutation { createIssue(input: {title: \"Can't log in\", body: \"Since 9am: 'invalid credentials'\"}) { issue { number } } }",
     None),
    ("query Hasura($where: users_bool_exp!) { users(where: $where) { id name } }",
     {"where": {"_and": [{"name": {"_ilike": "%o'brien%"}}, {"active": {"_eq": True}}]}}),
]

MATH = [
    "2*(3+4) = 14", "x^2 + y^2 = r^2", "sqrt(16) + 3! = 10", "f(x) = 3x^2 - 2x + 1", "(a+b)/2 >= c",
    "1/2 + 1/3 = 5/6", "sin(pi/2) = 1", "E[X] = sum(x * p(x))", "\\frac{a}{b} + \\sqrt{2}", "n! / (k! * (n-k)!)",
    "log2(1024) = 10", "50% of 80 = 40", "3 > 2 > 1", "|x - 1| <= 0.5", "[[1, 2], [3, 4]] * [5, 6]", "y = mx + b",
    "10 mod 3 = 1", "2^10 = 1024", "e^(i*pi) + 1 = 0", "avg = (12 + 15 + 9) / 3", "a < b && b < c",
    "P(A|B) = P(B|A)P(A)/P(B)", "1e-3 * 2.5e4 = 25", "-(-5) = 5", "0.1 + 0.2 != 0.3", "4 * atan(1) ≈ 3.14159",
    "x = (-b ± sqrt(b^2 - 4ac)) / 2a", "if x > 0 then 1 else -1", "∑_{i=1}^{n} i = n(n+1)/2", "cos(0)=1",
]

SQL_PROSE = [
    "select the best option from the list", "Please select one or more items and click Update.",
    "Drop me a line when you're free.", "Union members meet on Tuesday; delete this after reading.",
    "Insert tab A into slot B, then select 'Done'.", "Where are my orders from last week?",
    "Order by phone or online; either works.", "I'd like to update my address and drop the old one.",
    "Join us for dinner; select a date from the calendar.", "The table has 4 chairs, or 6 if you add the leaf.",
    "Exec team sync: 1:1 meetings moved to Friday.", "Having trouble? Select Help from the menu.",
    "Grant access to Zoë or O'Brien, whoever is on call.", "We sell tables, chairs and desks -- and union jacks.",
    "Truncate the summary to 200 characters, please.", "Group by region and sort by revenue, descending.",
    "'Select' and 'Premium' are our two tiers.", "Create table reservations for 8 people at 7:30pm.",
    "It's an either/or situation: pay now or pay later.", "The where-house (warehouse) is closed on Sundays.",
    "In case the parcel is lost, file a claim within 30 days.", "Sleep 8 hours a night is the goal, says my doctor.",
]

# Written in the manner of forum posts and news items that mention technical
# words (GoTestWAF ships such texts as its false-positive set; these are ours).
FORUM_TEXTS = [
    "Has anyone tried the new Python release? The select module changed and my scripts now need an update.",
    "Our school's drama club performs Romeo and Juliet on Friday. Tickets: $5, or $3 for students.",
    "The senator said the bill would drop taxes for families, but critics say it will union-bust.",
    "I wrote a short script to alert me when the price drops below 100 and it works great.",
    "Breaking: city council votes to insert bike lanes on Main St; construction to begin in May.",
    "Tip: in the settings, select 'Advanced', then 'Reset', and confirm with OK.",
    "The document describes how the window object and the document object relate in browsers.",
    "Grandma's recipe: mix flour & sugar, add eggs; bake 40 min. Tastes like home <3",
    "Q: What does 'exec' mean on a resume? A: It is short for executive.",
    "After the update, the etc. folder icons look different; is that a known change or a bug?",
    "My cat ran the whole length of the table and knocked over a cup of coffee onto my keyboard.",
    "Versions 1.0 through 1.4 are end-of-life; please update to 2.x by the end of the year.",
    "The union of two sets A and B contains every element that is in A or in B (or both).",
    "Our weekly newsletter: new features, a bug-fix release, and an interview with the team lead.",
    "Does the script tag go in the head or the body? I read both and I'm confused.",
    "The football match ended 2-1 after a penalty in the 89th minute; fans were ecstatic.",
    "Top 10 tips for onboarding: 1) set goals 2) assign a buddy 3) check in often ...",
    "He said the ping was 20 ms on wired but 200 ms over Wi-Fi, which is odd.",
    "To alert the authorities, call 911 (US) or 112 (EU). Stay calm and give your location.",
    "The museum's new exhibit on ancient Rome opens Saturday, with free admission for kids under 12.",
]

COMMENT_PATHS = ["/repos/acme/webapp/issues/{n}/comments", "/api/v2/tickets/{n}/comments", "/posts/{n}/replies",
                 "/api/v1/tasks/{n}/notes", "/wiki/pages/{n}/revisions", "/api/reviews"]

SEARCH_SYNTAX = [
    "status:open label:\"good first issue\" -label:wontfix", "title:(quick OR brown) AND author:\"O'Brien\"",
    "price:[10 TO 20] AND color:blue", "name:Zo* OR name:Zoë~1", "repo:acme/webapp is:pr is:merged",
    "created:>=2026-01-01 sort:updated-desc", "\"select all\" shortcut", "(red OR blue) AND NOT green",
    "user.name:\"Smith & Sons\" AND _exists_:email", "path:src/*.rs fn main", "in:title \"can't\"",
]


def b64(data):
    return base64.b64encode(data).decode()


def jwt(rng):
    def part(obj):
        return base64.urlsafe_b64encode(json.dumps(obj).encode()).decode().rstrip("=")
    return part({"alg": "RS256", "typ": "JWT", "kid": "k1"}) + "." + part(
        {"sub": str(rng.randint(1, 10 ** 6)), "name": rng.choice(pools.FIRST_NAMES), "iat": 1767225600}) + "." + \
        base64.urlsafe_b64encode(bytes(rng.getrandbits(8) for _ in range(64))).decode().rstrip("=")


def qs(pairs, rng):
    plus = rng.random() < 0.5
    return "&".join(f"{urllib.parse.quote(k, safe='$[]')}=" +
                    (urllib.parse.quote_plus(v, safe="',()$") if plus else urllib.parse.quote(v, safe="',()$/:"))
                    for k, v in pairs)


def text_pool():
    return pools.PROSE + pools.MARKDOWN + SQL_PROSE + FORUM_TEXTS + MATH


def one(rng):
    """One request: (target, headers, body)."""
    r = rng
    kind = r.randrange(12)
    J = [["content-type", "application/json"]]
    F = [["content-type", "application/x-www-form-urlencoded"]]
    if kind == 0:
        pairs = [("$filter", r.choice(ODATA_FILTERS))]
        for k, pool in (("$select", ODATA_SELECT), ("$expand", ODATA_EXPAND), ("$orderby", ODATA_ORDER)):
            if r.random() < 0.5:
                pairs.append((k, r.choice(pool)))
        if r.random() < 0.4:
            pairs += [("$top", str(r.choice([10, 25, 50]))), ("$skip", str(r.randint(0, 200)))]
        if r.random() < 0.2:
            pairs.append(("$search", '"' + r.choice(pools.SEARCHES).replace('"', "") + '"'))
        if r.random() < 0.2:
            pairs.append(("$count", "true"))
        r.shuffle(pairs)
        return r.choice(ODATA_PATHS) + "?" + qs(pairs, r), [], None
    if kind == 1:
        query, variables = r.choice(GRAPHQL)
        if r.random() < 0.25:
            pairs = [("query", query)] + ([("variables", json.dumps(variables))] if variables else [])
            return "/graphql?" + qs(pairs, r), [], None
        body = {"query": query, "variables": variables or {}}
        if r.random() < 0.5:
            body["operationName"] = None
        return "/graphql", J, json.dumps(body, ensure_ascii=r.random() < 0.5)
    if kind == 2:
        path = r.choice(COMMENT_PATHS).replace("{n}", str(r.randint(1, 9999)))
        text = r.choice(pools.MARKDOWN + pools.PROSE)
        if r.random() < 0.7:
            return path, J, json.dumps({"body": text, "public": r.choice([True, False])}, ensure_ascii=r.random() < 0.5)
        return path, F, qs([("comment[body]", text), ("commit", "Comment")], r)
    if kind == 3:
        redirect = r.choice([u for u in pools.URLS if "example" in u or "://" not in u])
        pairs = [("response_type", "code"), ("client_id", "%016x" % r.getrandbits(64)), ("redirect_uri", redirect),
                 ("scope", r.choice(["openid profile email", "read:user repo", "offline_access https://graph.example.com/.default"])),
                 ("state", b64(bytes(r.getrandbits(8) for _ in range(12)))),
                 ("code_challenge", base64.urlsafe_b64encode(bytes(r.getrandbits(8) for _ in range(32))).decode().rstrip("=")),
                 ("code_challenge_method", "S256")]
        if r.random() < 0.5:
            return "/oauth/authorize?" + qs(pairs, r), [], None
        return "/oauth/token", F, qs([("grant_type", "authorization_code"), ("code", "%032x" % r.getrandbits(128)),
                                      ("redirect_uri", redirect), ("client_id", pairs[1][1])], r)
    if kind == 4:
        key = r.choice(["next", "return_to", "returnUrl", "continue", "redirect", "url", "callback", "RelayState"])
        return r.choice(["/login", "/logout", "/sso/start", "/r", "/account/switch"]) + "?" + qs(
            [(key, r.choice(pools.URLS + ["/dashboard?tab=billing", "/settings/profile#email", "/orders/123?ref=email"]))], r), [], None
    if kind == 5:
        data = r.choice([b"\x89PNG\r\n\x1a\n" + bytes(r.getrandbits(8) for _ in range(r.randint(60, 400))),
                         r.choice(pools.MARKDOWN).encode(), json.dumps({"name": r.choice(pools.COMPANIES)}).encode(),
                         bytes(r.getrandbits(8) for _ in range(r.randint(30, 600)))])
        shape = r.randrange(3)
        if shape == 0:
            return "/repos/acme/webapp/contents/" + urllib.parse.quote(r.choice(["docs/README.md", "assets/logo.png", "data/export.json"])), \
                J, json.dumps({"message": r.choice(pools.TITLES), "content": b64(data), "branch": "main"})
        if shape == 1:
            return "/api/v1/users/me", J, json.dumps({"avatar": "data:image/png;base64," + b64(data)})
        return "/api/session?" + qs([("id_token_hint", jwt(r)), ("post_logout_redirect_uri", r.choice(pools.URLS))], r), [], None
    if kind == 6:
        m = r.choice(MATH)
        if r.random() < 0.5:
            return "/api/calc?" + qs([("expr", m), ("precision", str(r.randint(2, 10)))], r), [], None
        return "/api/notes", J, json.dumps({"title": "math homework", "text": m})
    if kind == 7:
        t = r.choice(SQL_PROSE + FORUM_TEXTS)
        shape = r.randrange(3)
        if shape == 0:
            return "/search?" + qs([("q", t)], r), [], None
        if shape == 1:
            return "/api/messages", J, json.dumps({"to": r.choice(pools.FIRST_NAMES), "message": t})
        return "/contact", F, qs([("name", r.choice(pools.FIRST_NAMES) + " " + r.choice(pools.LAST_NAMES)),
                                  ("email", "someone@example.com"), ("message", t)], r)
    if kind == 8:
        return "/api/contacts", F, qs([("first_name", r.choice(pools.FIRST_NAMES)), ("last_name", r.choice(pools.LAST_NAMES)),
                                       ("company", r.choice(pools.COMPANIES)), ("street", r.choice(pools.STREETS)),
                                       ("city", r.choice(pools.CITIES)), ("notes", r.choice(pools.PROSE))], r)
    if kind == 9:
        return r.choice(["/search/issues", "/api/search", "/_search", "/products"]) + "?" + qs(
            [("q", r.choice(SEARCH_SYNTAX + pools.SEARCHES)), ("per_page", str(r.choice([10, 30, 100])))], r), [], None
    if kind == 10:
        hs = [["accept-language", r.choice(["fr-CH, fr;q=0.9, en;q=0.8, de;q=0.7, *;q=0.5", "en-US,en;q=0.9", "pt-BR"])],
              ["if-none-match", 'W/"%x"' % r.getrandbits(40)],
              ["referer", r.choice(pools.URLS)],
              ["cookie", "_ga=GA1.2.%d.%d; prefs=%s; lang=%s" % (
                  r.getrandbits(30), 1767225600 + r.randint(0, 10 ** 6),
                  urllib.parse.quote(json.dumps({"theme": "dark", "tz": r.choice(pools.TIMEZONES)})), r.choice(pools.LOCALES))]]
        return "/api/v1/dashboard?" + qs([("from", "2026-01-01"), ("to", "2026-01-31")], r), hs, None
    t = r.choice(text_pool())
    return "/api/v1/feedback", J, json.dumps({"rating": r.randint(1, 5), "comment": t,
                                              "user": {"name": r.choice(pools.FIRST_NAMES) + " " + r.choice(pools.LAST_NAMES)}},
                                             ensure_ascii=r.random() < 0.5)


def generate(rng, n=1800):
    out, seen = [], set()
    for _ in range(n * 3):
        t, hs, b = one(rng)
        key = f"{t} {b}"
        if key in seen:
            continue
        seen.add(key)
        hs = hs + [["user-agent", rng.choice(pools.USER_AGENTS)], ["accept", "application/json"]]
        out.append((t, hs, b))
        if len(out) >= n:
            break
    return out
