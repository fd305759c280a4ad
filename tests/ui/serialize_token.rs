// A token can't leave the process that checked it.
use amanat::category::Phone;
use amanat::ConsentToken;

fn export(token: &ConsentToken<Phone>) -> String {
    serde_json::to_string(token).unwrap()
}

fn main() {}
