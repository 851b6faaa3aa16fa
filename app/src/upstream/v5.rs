//! REST Countries v5 → v3.1: the one place that knows both shapes.
//!
//! v5 (`{"data": {"objects": [country]}}`, `names`, `codes.alpha_2`,
//! `area.kilometers`, `capitals[]`, `flag.url_png`, ...) is mapped to the
//! v3.1 document the API serves, so clients see one contract whichever
//! provider a stage uses. The v5 schema is known from its public docs, not an
//! official schema, so every field is optional here: a missing field becomes
//! the empty value v3.1 uses ("", [] or {}), never an error. Only a document
//! without `codes.alpha_2` and `names.common` is rejected.

use serde_json::{Map, Value, json};

/// Maps one v5 country object to the v3.1 shape.
pub fn to_v31(v5: &Value) -> Result<Value, String> {
    let at = |path: &str| pointer(v5, path);
    let cca2 = str_at(v5, "/codes/alpha_2");
    let common = str_at(v5, "/names/common");
    if cca2.is_empty() || common.is_empty() {
        return Err("the v5 country has no codes.alpha_2 or names.common".into());
    }

    let capitals = at("/capitals").and_then(Value::as_array).cloned().unwrap_or_default();
    let primary = capitals
        .iter()
        .find(|c| c.get("primary").and_then(Value::as_bool) == Some(true))
        .or_else(|| capitals.first());

    let mut out = Map::new();
    out.insert(
        "name".into(),
        json!({
            "common": common,
            "official": str_at(v5, "/names/official"),
            "nativeName": object_at(v5, "/names/native"),
        }),
    );
    out.insert("tld".into(), array_at(v5, "/tlds"));
    out.insert("cca2".into(), json!(cca2));
    out.insert("ccn3".into(), json!(str_at(v5, "/codes/ccn3")));
    out.insert("cca3".into(), json!(str_at(v5, "/codes/alpha_3")));
    out.insert("cioc".into(), json!(str_at(v5, "/codes/cioc")));
    out.insert("fifa".into(), json!(str_at(v5, "/codes/fifa")));
    out.insert("independent".into(), bool_at(v5, &["/classification/sovereign"]));
    out.insert("status".into(), json!(iso_status(&str_at(v5, "/classification/iso_status"))));
    out.insert("unMember".into(), bool_at(v5, &["/memberships/un", "/classification/un_member"]));
    out.insert("currencies".into(), keyed(at("/currencies"), "code"));
    out.insert("idd".into(), idd(at("/calling_codes")));
    out.insert("capital".into(), capitals.iter().filter_map(|c| c.get("name").cloned()).collect());
    out.insert("capitalInfo".into(), primary.map(|c| json!({ "latlng": latlng(c) })).unwrap_or_else(|| json!({})));
    out.insert("altSpellings".into(), array_at(v5, "/names/alternates"));
    out.insert("region".into(), json!(str_at(v5, "/region")));
    out.insert("subregion".into(), json!(str_at(v5, "/subregion")));
    out.insert("continents".into(), array_at(v5, "/continents"));
    out.insert("languages".into(), languages(at("/languages")));
    out.insert("translations".into(), object_at(v5, "/names/translations"));
    out.insert("latlng".into(), latlng(v5));
    out.insert("landlocked".into(), bool_at(v5, &["/landlocked"]));
    out.insert("borders".into(), array_at(v5, "/borders"));
    out.insert("area".into(), at("/area/kilometers").or_else(|| at("/area").filter(|a| a.is_number())).cloned().unwrap_or(json!(0)));
    out.insert("flag".into(), json!(str_at(v5, "/flag/emoji")));
    out.insert("demonyms".into(), object_at(v5, "/demonyms"));
    out.insert(
        "flags".into(),
        json!({
            "png": str_at(v5, "/flag/url_png"),
            "svg": str_at(v5, "/flag/url_svg"),
            "alt": str_at(v5, "/flag/description"),
        }),
    );
    out.insert(
        "coatOfArms".into(),
        json!({ "png": str_at(v5, "/coat_of_arms/url_png"), "svg": str_at(v5, "/coat_of_arms/url_svg") }),
    );
    out.insert("population".into(), at("/population").cloned().unwrap_or(json!(0)));
    out.insert(
        "maps".into(),
        json!({
            "googleMaps": str_at(v5, "/links/google_maps"),
            "openStreetMaps": str_at(v5, "/links/open_street_maps"),
        }),
    );
    out.insert("gini".into(), gini(v5));
    out.insert(
        "car".into(),
        json!({ "signs": array_at(v5, "/cars/signs"), "side": str_at(v5, "/cars/driving_side") }),
    );
    out.insert(
        "postalCode".into(),
        json!({
            "format": at("/postal_code/format").cloned().unwrap_or(Value::Null),
            "regex": at("/postal_code/regex").cloned().unwrap_or(Value::Null),
        }),
    );
    out.insert("startOfWeek".into(), json!(str_at(v5, "/date/start_of_week")));
    out.insert("timezones".into(), array_at(v5, "/timezones"));
    Ok(Value::Object(out))
}

fn pointer<'a>(v: &'a Value, path: &str) -> Option<&'a Value> {
    v.pointer(path).filter(|x| !x.is_null())
}

fn str_at(v: &Value, path: &str) -> String {
    match pointer(v, path) {
        Some(Value::String(s)) => s.clone(),
        Some(Value::Number(n)) => n.to_string(),
        _ => String::new(),
    }
}

fn array_at(v: &Value, path: &str) -> Value {
    pointer(v, path).filter(|x| x.is_array()).cloned().unwrap_or_else(|| json!([]))
}

fn object_at(v: &Value, path: &str) -> Value {
    pointer(v, path).filter(|x| x.is_object()).cloned().unwrap_or_else(|| json!({}))
}

fn bool_at(v: &Value, paths: &[&str]) -> Value {
    json!(paths.iter().find_map(|p| pointer(v, p).and_then(Value::as_bool)).unwrap_or(false))
}

fn iso_status(v5: &str) -> &'static str {
    match v5 {
        "user_assigned" | "user-assigned" => "user-assigned",
        _ => "officially-assigned",
    }
}

fn latlng(v: &Value) -> Value {
    match (pointer(v, "/coordinates/lat"), pointer(v, "/coordinates/lng")) {
        (Some(lat), Some(lng)) => json!([lat, lng]),
        _ => json!([]),
    }
}

/// v5 `languages[]` of `{name, iso_code}` → v3.1 `{"deu": "German"}`.
fn languages(v: Option<&Value>) -> Value {
    match v {
        Some(Value::Array(items)) => Value::Object(
            items
                .iter()
                .filter_map(|l| Some((l.get("iso_code")?.as_str()?.to_string(), l.get("name")?.clone())))
                .collect(),
        ),
        Some(Value::Object(map)) => Value::Object(map.clone()),
        _ => json!({}),
    }
}

/// A map as v3.1 has it; a v5 list of objects is keyed by `key_field`.
fn keyed(v: Option<&Value>, key_field: &str) -> Value {
    match v {
        Some(Value::Object(map)) => Value::Object(map.clone()),
        Some(Value::Array(items)) => Value::Object(
            items
                .iter()
                .filter_map(|item| {
                    let mut item = item.as_object()?.clone();
                    let key = item.remove(key_field)?.as_str()?.to_string();
                    Some((key, Value::Object(item)))
                })
                .collect(),
        ),
        _ => json!({}),
    }
}

/// `["+49"]` → `{"root": "+4", "suffixes": ["9"]}`, split as v3.1 did: the
/// root is the first digit, the suffixes the rest of each code.
fn idd(v: Option<&Value>) -> Value {
    let codes: Vec<String> = v
        .and_then(Value::as_array)
        .map(|a| a.iter().filter_map(Value::as_str).map(|s| s.trim_start_matches('+').to_string()).collect())
        .unwrap_or_default();
    let Some(first) = codes.iter().find_map(|c| c.chars().next()) else { return json!({}) };
    let suffixes: Vec<&str> = codes.iter().map(|c| &c[first.len_utf8().min(c.len())..]).filter(|s| !s.is_empty()).collect();
    json!({ "root": format!("+{first}"), "suffixes": suffixes })
}

/// `economy.gini_coefficient` as `{year: value}`: accepts `{year, value}`
/// or a bare number with `economy.gini_year` beside it.
fn gini(v: &Value) -> Value {
    let (year, value) = match pointer(v, "/economy/gini_coefficient") {
        Some(Value::Object(g)) => match (g.get("year"), g.get("value")) {
            (Some(year), Some(value)) => (year.to_string().trim_matches('"').to_string(), value.clone()),
            _ => return json!({}),
        },
        Some(n @ Value::Number(_)) => {
            let year = str_at(v, "/economy/gini_year");
            (if year.is_empty() { "unknown".to_string() } else { year }, n.clone())
        }
        _ => return json!({}),
    };
    Value::Object(Map::from_iter([(year, value)]))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn germany_v5() -> Value {
        json!({
            "names": {
                "common": "Germany", "official": "Federal Republic of Germany",
                "native": {"deu": {"common": "Deutschland", "official": "Bundesrepublik Deutschland"}},
                "translations": {"fra": {"common": "Allemagne", "official": "République fédérale d'Allemagne"}},
                "alternates": ["DE", "Deutschland"]
            },
            "codes": {"alpha_2": "DE", "alpha_3": "DEU", "ccn3": "276", "cioc": "GER", "fifa": "GER"},
            "region": "Europe", "subregion": "Western Europe", "continents": ["Europe"],
            "landlocked": false, "borders": ["AUT", "BEL"], "timezones": ["UTC+01:00"], "population": 83240525,
            "currencies": {"EUR": {"name": "Euro", "symbol": "€"}},
            "demonyms": {"eng": {"f": "German", "m": "German"}},
            "area": {"kilometers": 357114, "miles": 137882},
            "coordinates": {"lat": 51, "lng": 9},
            "capitals": [{"name": "Berlin", "primary": true, "coordinates": {"lat": 52.52, "lng": 13.4}}],
            "languages": [{"name": "German", "native": "Deutsch", "iso_code": "deu"}],
            "calling_codes": ["+49"], "tlds": [".de"],
            "flag": {"emoji": "🇩🇪", "url_png": "https://flagcdn.com/w320/de.png", "url_svg": "https://flagcdn.com/de.svg", "description": "three bands"},
            "memberships": {"un": true},
            "classification": {"sovereign": true, "iso_status": "official"},
            "date": {"start_of_week": "monday"},
            "cars": {"driving_side": "right", "signs": ["DY"]},
            "postal_code": {"format": "#####", "regex": "^(\\d{5})$"},
            "links": {"google_maps": "https://goo.gl/maps/x", "open_street_maps": "https://osm.org/r/51477"},
            "economy": {"gini_coefficient": {"year": 2016, "value": 31.9}}
        })
    }

    #[test]
    fn maps_every_documented_field() {
        let v31 = to_v31(&germany_v5()).unwrap();
        assert_eq!(v31["name"]["common"], "Germany");
        assert_eq!(v31["name"]["nativeName"]["deu"]["common"], "Deutschland");
        assert_eq!(v31["translations"]["fra"]["common"], "Allemagne");
        assert_eq!(v31["altSpellings"], json!(["DE", "Deutschland"]));
        assert_eq!((v31["cca2"].clone(), v31["cca3"].clone(), v31["ccn3"].clone()), (json!("DE"), json!("DEU"), json!("276")));
        assert_eq!((v31["cioc"].clone(), v31["fifa"].clone()), (json!("GER"), json!("GER")));
        assert_eq!(v31["area"], json!(357114));
        assert_eq!(v31["latlng"], json!([51, 9]));
        assert_eq!(v31["capital"], json!(["Berlin"]));
        assert_eq!(v31["capitalInfo"]["latlng"], json!([52.52, 13.4]));
        assert_eq!(v31["languages"], json!({"deu": "German"}));
        assert_eq!(v31["idd"], json!({"root": "+4", "suffixes": ["9"]}));
        assert_eq!(v31["tld"], json!([".de"]));
        assert_eq!(v31["flag"], "🇩🇪");
        assert_eq!(v31["flags"]["png"], "https://flagcdn.com/w320/de.png");
        assert_eq!(v31["flags"]["alt"], "three bands");
        assert_eq!((v31["unMember"].clone(), v31["independent"].clone()), (json!(true), json!(true)));
        assert_eq!(v31["status"], "officially-assigned");
        assert_eq!(v31["startOfWeek"], "monday");
        assert_eq!(v31["car"], json!({"signs": ["DY"], "side": "right"}));
        assert_eq!(v31["postalCode"]["format"], "#####");
        assert_eq!(v31["maps"]["openStreetMaps"], "https://osm.org/r/51477");
        assert_eq!(v31["gini"], json!({"2016": 31.9}));
        assert_eq!(v31["currencies"]["EUR"]["symbol"], "€");
        assert_eq!(v31["demonyms"]["eng"]["m"], "German");
        assert_eq!(v31["borders"], json!(["AUT", "BEL"]));
        assert_eq!(v31["timezones"], json!(["UTC+01:00"]));
        assert_eq!(v31["population"], json!(83240525));
        assert_eq!(v31["region"], "Europe");
        assert_eq!(v31["subregion"], "Western Europe");
    }

    #[test]
    fn key_order_follows_v31() {
        let v31 = to_v31(&germany_v5()).unwrap();
        let keys: Vec<&str> = v31.as_object().unwrap().keys().map(String::as_str).collect();
        assert_eq!(&keys[..5], ["name", "tld", "cca2", "ccn3", "cca3"]);
        assert_eq!(keys.last(), Some(&"timezones"));
        assert_eq!(keys.len(), 35);
    }

    #[test]
    fn missing_fields_become_v31_empties() {
        let v31 = to_v31(&json!({"names": {"common": "Kosovo"}, "codes": {"alpha_2": "XK"},
            "classification": {"iso_status": "user_assigned"}, "calling_codes": ["+383"],
            "memberships": null, "economy": {"gini_coefficient": 29}})).unwrap();
        assert_eq!(v31["status"], "user-assigned");
        assert_eq!(v31["tld"], json!([]));
        assert_eq!(v31["capitalInfo"], json!({}));
        assert_eq!(v31["currencies"], json!({}));
        assert_eq!(v31["unMember"], json!(false));
        assert_eq!(v31["idd"], json!({"root": "+3", "suffixes": ["83"]}));
        assert_eq!(v31["postalCode"], json!({"format": null, "regex": null}));
        assert_eq!(v31["gini"], json!({"unknown": 29}));
    }

    #[test]
    fn currencies_as_a_list_are_keyed_by_code() {
        let v31 = to_v31(&json!({"names": {"common": "X"}, "codes": {"alpha_2": "XX"},
            "currencies": [{"code": "USD", "name": "dollar", "symbol": "$"}]})).unwrap();
        assert_eq!(v31["currencies"], json!({"USD": {"name": "dollar", "symbol": "$"}}));
    }

    #[test]
    fn rejects_a_document_without_identity() {
        assert!(to_v31(&json!({"names": {"common": "Nowhere"}})).is_err());
        assert!(to_v31(&json!("notice: demo key")).is_err());
    }
}
