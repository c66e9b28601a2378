//! An API object's structured label selector (`matchLabels` and `matchExpressions`) turned
//! into the cockpit's parsed `LabelSelector`, by way of its textual form.

use k8s_openapi::apimachinery::pkg::apis::meta::v1::LabelSelector as ApiSelector;

use crate::k8s::selector::LabelSelector;

/// None when the selector cannot be expressed (an unknown operator, a set without values):
/// the API server refuses such selectors, so treating it as matching nothing is safe.
pub fn from_api(selector: &ApiSelector) -> Option<LabelSelector> {
    let mut terms: Vec<String> = selector
        .match_labels
        .iter()
        .flatten()
        .map(|(k, v)| format!("{k}={v}"))
        .collect();
    for expr in selector.match_expressions.iter().flatten() {
        let values = expr.values.as_deref().unwrap_or_default().join(",");
        terms.push(match expr.operator.as_str() {
            "In" => format!("{} in ({values})", expr.key),
            "NotIn" => format!("{} notin ({values})", expr.key),
            "Exists" => expr.key.clone(),
            "DoesNotExist" => format!("!{}", expr.key),
            _ => return None,
        });
    }
    LabelSelector::parse(&terms.join(",")).ok()
}
