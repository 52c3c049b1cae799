//! BlockNote's named colours (its default theme's values), for the formats that need a value.

/// The text colour and background colour BlockNote shows for a colour name.
pub fn of(name: &str) -> Option<(&'static str, &'static str)> {
    Some(match name {
        "gray" => ("#9b9a97", "#ebeced"),
        "brown" => ("#64473a", "#e9e5e3"),
        "red" => ("#e03e3e", "#fbe4e4"),
        "orange" => ("#d9730d", "#f6e9d9"),
        "yellow" => ("#dfab01", "#fbf3db"),
        "green" => ("#4d6461", "#ddedea"),
        "blue" => ("#0b6e99", "#ddebf1"),
        "purple" => ("#6940a5", "#eae4f2"),
        "pink" => ("#ad1a72", "#f4dfeb"),
        _ => return None,
    })
}

/// The text colour of a name, as `#rrggbb`.
pub fn text(name: &str) -> Option<&'static str> {
    of(name).map(|(t, _)| t)
}

/// The background colour of a name, as `#rrggbb`.
pub fn background(name: &str) -> Option<&'static str> {
    of(name).map(|(_, b)| b)
}
