import { useQuery } from "@tanstack/react-query";
import { api, call } from "../api/client";

/** An item and its project, for the item's own page. */
export function useItemAndProject(projectId: string, itemId: string) {
  const item = useQuery({
    queryKey: ["item", itemId],
    queryFn: () => call(api.GET("/items/{id}", { params: { path: { id: itemId } } })),
  });
  const project = useQuery({
    queryKey: ["project", projectId],
    queryFn: () => call(api.GET("/projects/{id}", { params: { path: { id: projectId } } })),
  });
  return { item, project };
}
