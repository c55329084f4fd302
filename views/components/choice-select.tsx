// A picker of one named choice (a worker, a rule, a kind), optionally led by a choice for none in particular or by a prompt to pick one.
import Html from "@kitajs/html";

export interface Choice {
  value: string;
  label: string;
}

/** Workers as choices: the id as the value, the name as the label. */
export function workerChoices(workers: readonly { id: number; name: string }[]): Choice[] {
  return workers.map((w) => ({ value: String(w.id), label: w.name }));
}

/**
 * `value`: the picked choice's value. `none`: the words of a first choice, valued "", that stands for none in particular
 * (every worker, the head itself). `prompt`: instead, a first choice that only asks for one, and the picker is required.
 */
export function ChoiceSelect(props: {
  name: string;
  value?: string;
  choices: readonly Choice[];
  none?: string;
  prompt?: string;
}): JSX.Element {
  return (
    <select name={props.name} required={props.prompt !== undefined ? true : undefined}>
      {props.none !== undefined ? (
        <option value="" selected={props.value === ""} safe>
          {props.none}
        </option>
      ) : (
        ""
      )}
      {props.prompt !== undefined ? (
        <option value="" disabled selected={!props.value} safe>
          {props.prompt}
        </option>
      ) : (
        ""
      )}
      {props.choices.map((c) => (
        <option value={c.value} selected={c.value === props.value} safe>
          {c.label}
        </option>
      ))}
    </select>
  );
}
