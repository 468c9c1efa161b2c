package fedlake.core.spec;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.NullNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.Iterator;
import java.util.Map;
import org.apache.avro.JsonProperties;
import org.apache.avro.Schema;

/**
 * Fills the fields an older writer did not know into Avro JSON: Avro's JSON decoder does not apply
 * a field's default when the field is missing (it fails with "Expected long. Got END_OBJECT"), so a
 * spec file written before a field was added would no longer read. Fields with a default are added
 * where missing, in records at any depth (also inside unions, arrays and maps).
 */
final class JsonDefaults {
  private static final ObjectMapper MAPPER = new ObjectMapper();

  private JsonDefaults() {}

  /** {@code json} with every missing field that has a default filled in. */
  static String fill(String json, Schema schema) {
    try {
      JsonNode tree = MAPPER.readTree(json);
      fill(tree, schema);
      return MAPPER.writeValueAsString(tree);
    } catch (IOException e) {
      throw new UncheckedIOException("not JSON: " + e.getMessage(), e);
    }
  }

  private static void fill(JsonNode node, Schema schema) {
    if (node == null || node.isNull()) {
      return;
    }
    switch (schema.getType()) {
      case RECORD -> {
        if (!(node instanceof ObjectNode object)) {
          return;
        }
        for (Schema.Field field : schema.getFields()) {
          JsonNode value = object.get(field.name());
          if (value == null) {
            if (field.hasDefaultValue()) {
              object.set(field.name(), toJson(field.defaultVal()));
            }
          } else {
            fill(value, field.schema());
          }
        }
      }
      case UNION -> {
        // Avro JSON wraps a non-null union value as {"branch name": value}
        if (node instanceof ObjectNode object && object.size() == 1) {
          Map.Entry<String, JsonNode> only = object.fields().next();
          for (Schema branch : schema.getTypes()) {
            if (branch.getFullName().equals(only.getKey())
                || branch.getName().equals(only.getKey())) {
              fill(only.getValue(), branch);
            }
          }
        }
      }
      case ARRAY -> {
        if (node instanceof ArrayNode array) {
          array.forEach(element -> fill(element, schema.getElementType()));
        }
      }
      case MAP -> {
        if (node instanceof ObjectNode object) {
          for (Iterator<JsonNode> values = object.elements(); values.hasNext(); ) {
            fill(values.next(), schema.getValueType());
          }
        }
      }
      default -> {
        // primitives, enums and fixed carry no fields
      }
    }
  }

  private static JsonNode toJson(Object value) {
    return value == null || value == JsonProperties.NULL_VALUE
        ? NullNode.getInstance()
        : MAPPER.valueToTree(value);
  }
}
