// Personal data has no plain serialized form.
use amanat::category::Passport;
use amanat::PersonalData;

fn dump(passport: &PersonalData<String, Passport>) -> String {
    serde_json::to_string(passport).unwrap()
}

fn main() {}
