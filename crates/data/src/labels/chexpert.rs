//! CheXpert's patient ids: CheXpert has no patient column, its paths name the patient
//! (`CheXpert-v1.0-small/train/patient00001/study1/view1_frontal.jpg`).

/// The `patientNNNNN` folder a path names, if any.
pub fn patient_from_path(path: &str) -> Option<&str> {
    path.split(['/', '\\']).find(|part| {
        part.strip_prefix("patient")
            .is_some_and(|digits| !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit()))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_patient_folder_of_a_chexpert_path() {
        assert_eq!(
            patient_from_path("CheXpert-v1.0-small/train/patient00042/study1/view1_frontal.jpg"),
            Some("patient00042")
        );
        assert_eq!(
            patient_from_path("train\\patient7\\a.jpg"),
            Some("patient7")
        );
        assert_eq!(patient_from_path("patients/patientX/a.jpg"), None);
    }
}
