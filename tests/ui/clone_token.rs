// A token is proof checked once, tied to one holder: it can't be duplicated.
use amanat::category::Phone;
use amanat::ConsentToken;

fn duplicate(token: &ConsentToken<Phone>) -> ConsentToken<Phone> {
    token.clone()
}

fn main() {}
