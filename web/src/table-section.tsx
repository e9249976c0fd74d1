/** @jsxRuntime automatic @jsxImportSource hono/jsx */

/**
 * A titled section holding one table whose rows the page's script fills (`<tbody>` left empty):
 * `id` names the table, `titleId` the heading the section is labelled by.
 *
 * @example
 * <TableSection id="jobs" titleId="jobs-title" title="Latest jobs" columns={['Job', 'Status']} />
 */
export function TableSection(props: { id: string; titleId: string; title: string; columns: string[] }) {
  return (
    <section aria-labelledby={props.titleId}>
      <h2 id={props.titleId}>{props.title}</h2>
      <div class="table-wrap">
        <table id={props.id}>
          <thead>
            <tr>
              {props.columns.map((column) => (
                <th scope="col">{column}</th>
              ))}
            </tr>
          </thead>
          <tbody />
        </table>
      </div>
    </section>
  )
}
