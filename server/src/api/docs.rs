//! `/api/docs`: the OpenAPI document as a page people can read, rendered here from the same
//! document `/api/v1/openapi.json` serves. No script and nothing from another site, so it
//! works on a server without internet access.

use std::fmt::Write;

use serde_json::Value;

fn esc(text: &str) -> String {
    text.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}

/// The name a `$ref` points to, or the type of an inline schema.
fn schema_name(schema: &Value) -> String {
    if let Some(reference) = schema["$ref"].as_str() {
        let name = reference.rsplit('/').next().unwrap_or(reference);
        return format!("<a href=\"#schema-{0}\">{0}</a>", esc(name));
    }
    match schema["type"].as_str() {
        Some("array") => format!("[{}]", schema_name(&schema["items"])),
        Some(kind) => esc(kind),
        None => match schema["oneOf"].as_array().or(schema["allOf"].as_array()) {
            Some(options) => options.iter().map(schema_name).collect::<Vec<_>>().join(" | "),
            None => "value".to_owned(),
        },
    }
}

/// The page for an OpenAPI document (as JSON).
pub(crate) fn page(doc: &Value) -> String {
    let mut html = String::from(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>Hubring API</title><style>\
         body{font:16px/1.5 system-ui,sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem;color:#1a1a1a}\
         code,.path{font-family:ui-monospace,monospace}h2{border-bottom:1px solid #ccc;margin-top:2rem}\
         .op{margin:.75rem 0;padding:.5rem .75rem;border-left:4px solid #2b6cb0;background:#f5f8fc}\
         .method{display:inline-block;min-width:4.5rem;font-weight:700;text-transform:uppercase}\
         table{border-collapse:collapse}td,th{padding:.2rem .6rem;text-align:left;border-bottom:1px solid #e2e2e2}\
         a{color:#1d4f91}</style></head><body>",
    );
    let info = &doc["info"];
    let _ = write!(
        html,
        "<h1>{}</h1><p>{}</p><p>Base URL: <code>{}</code> · \
         <a href=\"/api/v1/openapi.json\">openapi.json</a></p>",
        esc(info["title"].as_str().unwrap_or("API")),
        esc(info["description"].as_str().unwrap_or_default()),
        esc(doc["servers"][0]["url"].as_str().unwrap_or("/")),
    );
    let tags: Vec<(&str, &str)> = doc["tags"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|t| {
            (t["name"].as_str().unwrap_or_default(), t["description"].as_str().unwrap_or_default())
        })
        .collect();
    let paths = doc["paths"].as_object().cloned().unwrap_or_default();
    for (tag, description) in tags {
        let _ = write!(html, "<h2 id=\"tag-{0}\">{0}</h2><p>{1}</p>", esc(tag), esc(description));
        for (path, item) in &paths {
            for method in ["get", "post", "put", "patch", "delete"] {
                let op = &item[method];
                let in_tag = op["tags"].as_array().is_some_and(|t| t.iter().any(|t| t == tag));
                if !in_tag {
                    continue;
                }
                let _ = write!(
                    html,
                    "<div class=\"op\"><span class=\"method\">{method}</span> \
                     <span class=\"path\">{}</span><br>{}",
                    esc(path),
                    esc(op["summary"].as_str().unwrap_or_default()),
                );
                if let Some(query) = op["parameters"].as_array() {
                    let names: Vec<String> = query
                        .iter()
                        .filter(|p| p["in"] == "query")
                        .filter_map(|p| p["name"].as_str().map(esc))
                        .collect();
                    if !names.is_empty() {
                        let _ = write!(html, "<br>Query: <code>{}</code>", names.join(", "));
                    }
                }
                let body = &op["requestBody"]["content"]["application/json"]["schema"];
                if !body.is_null() {
                    let _ = write!(html, "<br>Body: {}", schema_name(body));
                }
                let responses = op["responses"].as_object().cloned().unwrap_or_default();
                let answers: Vec<String> = responses
                    .iter()
                    .map(|(status, r)| {
                        let schema = &r["content"]["application/json"]["schema"];
                        if schema.is_null() {
                            esc(status)
                        } else {
                            format!("{} {}", esc(status), schema_name(schema))
                        }
                    })
                    .collect();
                let _ = write!(html, "<br>Answers: {}</div>", answers.join(" · "));
            }
        }
    }
    html.push_str("<h2>Schemas</h2>");
    for (name, schema) in doc["components"]["schemas"].as_object().into_iter().flatten() {
        let _ = write!(html, "<h3 id=\"schema-{0}\">{0}</h3>", esc(name));
        if let Some(doc) = schema["description"].as_str() {
            let _ = write!(html, "<p>{}</p>", esc(doc));
        }
        if let Some(values) = schema["enum"].as_array() {
            let values: Vec<String> = values.iter().filter_map(|v| v.as_str().map(esc)).collect();
            let _ = write!(html, "<p>One of: <code>{}</code></p>", values.join(", "));
        }
        if let Some(props) = schema["properties"].as_object() {
            let required: Vec<&str> = schema["required"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(Value::as_str)
                .collect();
            html.push_str("<table><tr><th>field</th><th>type</th><th></th></tr>");
            for (field, prop) in props {
                let _ = write!(
                    html,
                    "<tr><td><code>{}</code></td><td>{}</td><td>{}</td></tr>",
                    esc(field),
                    schema_name(prop),
                    if required.contains(&field.as_str()) { "required" } else { "optional" },
                );
            }
            html.push_str("</table>");
        }
    }
    html.push_str("</body></html>");
    html
}
