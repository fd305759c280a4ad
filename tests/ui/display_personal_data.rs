// Personal data has no plain-text form to print.
use amanat::category::Phone;
use amanat::PersonalData;

fn show(phone: &PersonalData<String, Phone>) -> String {
    format!("{}", phone)
}

fn main() {}
