package fedlake.core.client;

import fedlake.schema.PersonalisationSpec;
import java.util.Locale;

/**
 * A personalisation mode named in the federation spec ({@code client.personalisation}): every site
 * keeps a local part next to the shared part that the round job averages. Today one mode, {@link
 * #FEDDAT}: a local head next to the shared head, trained by FedDAT's dual-teacher mutual
 * distillation ({@link FedDatObjective}).
 *
 * @param temperature T of the softened KL terms
 * @param sharedWeight weight of the shared head's KL towards the teacher
 * @param localWeight weight of the local head's KL towards the shared head
 */
public record Personalisation(
    String mode, double temperature, double sharedWeight, double localWeight) {
  public static final String FEDDAT = "feddat";
  public static final double TEMPERATURE_DEFAULT = 3.0;
  public static final double WEIGHT_DEFAULT = 1.0;

  public Personalisation {
    if (!FEDDAT.equals(mode)) {
      throw new IllegalArgumentException(
          "personalisation mode must be '" + FEDDAT + "', got '" + mode + "'");
    }
    if (!(temperature > 0) || !Double.isFinite(temperature)) {
      throw new IllegalArgumentException(
          "personalisation temperature must be finite and > 0, got " + temperature);
    }
    if (!(sharedWeight >= 0) || !Double.isFinite(sharedWeight)) {
      throw new IllegalArgumentException(
          "personalisation shared distillation weight must be finite and >= 0, got "
              + sharedWeight);
    }
    if (!(localWeight >= 0) || !Double.isFinite(localWeight)) {
      throw new IllegalArgumentException(
          "personalisation local distillation weight must be finite and >= 0, got " + localWeight);
    }
  }

  /** FedDAT with the temperature 3 and unit weights. */
  public static Personalisation feddat() {
    return new Personalisation(FEDDAT, TEMPERATURE_DEFAULT, WEIGHT_DEFAULT, WEIGHT_DEFAULT);
  }

  /** The mode a spec names, or null for none. */
  public static Personalisation of(PersonalisationSpec spec) {
    if (spec == null) {
      return null;
    }
    return new Personalisation(
        spec.getMode().toString().toLowerCase(Locale.ROOT),
        spec.getTemperature(),
        spec.getSharedDistillation(),
        spec.getLocalDistillation());
  }

  /** The spec record of this mode. */
  public PersonalisationSpec toSpec() {
    return PersonalisationSpec.newBuilder()
        .setMode(mode)
        .setTemperature(temperature)
        .setSharedDistillation(sharedWeight)
        .setLocalDistillation(localWeight)
        .build();
  }

  public String describe() {
    return String.format(
        Locale.ROOT,
        "%s (temperature %s, shared distillation %s, local distillation %s)",
        mode,
        temperature,
        sharedWeight,
        localWeight);
  }
}
